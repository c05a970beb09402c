"""GET /contacts/{id}/transcript (mentor, staff): a chat or e-mail transcript, read for a purpose of P4.

Decrypted, de-identified with the same scrubber as the reports, and recorded on the audit log with who,
when, which contact, the purpose and the optional note before it leaves (P4, P8). `purpose` is a
required query parameter, one of `training`, `emotional_processing` (the volunteer's own processing,
verwerking) or `quality_improvement`; `note` an optional one of at most `NOTE_MAX` characters, scrubbed
before it reaches the audit log. Anything else in either is 400, naming the parameter, never its value.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, cast

from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from helpline.api import StaffApiResolver, create_resolver, current_caller, openapi_responses
from helpline.clock import now as clock_now
from helpline.dal.audit import audit_log
from helpline.dal.register import register_store
from helpline.dal.transcript_reader import transcript_reader
from helpline.logic.audit import AuditLog
from helpline.logic.register import RegisterStore
from helpline.logic.transcripts import Scrubber, TranscriptNotFoundError, TranscriptReader, read_transcript
from helpline.models.register import CONTACT_ID_PATTERN
from helpline.models.transcripts import NOTE_MAX, TranscriptOut, TranscriptPurpose

TAGS = ["transcripts"]


def default_scrubber(text: str) -> str:
    """`helpline.scrub.scrub`, imported on first use: it loads a language model, and only a read needs it.

    Imported by name so this module does not depend on the scrubber at import (or type-check) time.
    """
    scrub = cast(Scrubber, importlib.import_module("helpline.scrub").scrub)
    return scrub(text)


def create_transcripts_app(
    register: Callable[[], RegisterStore] = register_store,
    reader: Callable[[], TranscriptReader] = transcript_reader,
    audit: Callable[[], AuditLog] = audit_log,
    scrubber: Scrubber = default_scrubber,
    clock: Callable[[], datetime] = clock_now,
) -> StaffApiResolver:
    """A resolver with the transcript route; every dependency is a seam for tests (P4, P8)."""
    app = create_resolver()

    @app.get(
        "/contacts/<id>/transcript",
        summary="A de-identified transcript, read for a purpose of P4",
        description=(
            "The chat or e-mail conversation, each message scrubbed of names and identifying details "
            "(P4, P8). Every read is on the audit log with its purpose (training, the volunteer's own "
            "emotional processing, or quality improvement) and its note, scrubbed. Calls are never "
            "recorded (P1): 404 for a call, as for an unknown contact. 400 for a malformed contact id, "
            "a purpose that is not one of the three, or a note that is empty or too long."
        ),
        tags=TAGS,
        operation_id="getTranscript",
        responses=openapi_responses("The de-identified transcript", 400, 401, 403, 404, 500),
    )
    def get_transcript(
        id: Annotated[str, Path(pattern=CONTACT_ID_PATTERN, description="Contact id")],
        purpose: Annotated[
            TranscriptPurpose,
            Query(
                description=(
                    "Why it is read, one of P4's purposes: `training` (training volunteers), "
                    "`emotional_processing` (the volunteer's own emotional processing, verwerking), "
                    "`quality_improvement`; recorded on the audit log"
                ),
            ),
        ],
        note: Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=NOTE_MAX,
                description=(
                    "Optional: what the read is for, in a few words (which training session, say). "
                    "Scrubbed of names and contact details before it is recorded on the audit log"
                ),
            ),
        ] = None,
    ) -> TranscriptOut:
        try:
            return read_transcript(
                register(),
                reader(),
                audit(),
                scrubber,
                contact_id=id,
                actor=current_caller(app).username,
                purpose=purpose,
                now=clock(),
                note=note,
            )
        except TranscriptNotFoundError as error:
            raise NotFoundError(str(error)) from None

    return app
