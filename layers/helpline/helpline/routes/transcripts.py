"""GET /contacts/{id}/transcript (mentor, staff): a chat or e-mail transcript for training (P4, P8).

Decrypted, de-identified with the same scrubber as the reports, and recorded on the audit log with who,
when, which contact and the stated purpose before it leaves. `purpose` is a required query parameter.
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
from helpline.models.transcripts import PURPOSE_MAX, PURPOSE_MIN, TranscriptOut

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
        summary="A de-identified transcript for training",
        description=(
            "The chat or e-mail conversation, each message scrubbed of names and identifying details "
            "(P4, P8). Every read is on the audit log with the stated purpose. Calls are never recorded (P1)."
        ),
        tags=TAGS,
        operation_id="getTranscript",
        responses=openapi_responses("The de-identified transcript", 400, 401, 403, 404, 500),
    )
    def get_transcript(
        id: Annotated[str, Path(pattern=CONTACT_ID_PATTERN, description="Contact id")],
        purpose: Annotated[
            str,
            Query(
                min_length=PURPOSE_MIN,
                max_length=PURPOSE_MAX,
                description="Why it is read (P4), e.g. training; recorded on the audit log",
            ),
        ],
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
            )
        except TranscriptNotFoundError as error:
            raise NotFoundError(str(error)) from None

    return app
