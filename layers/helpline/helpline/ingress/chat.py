"""Web chat: `POST /webhooks/chat` (format in helpline.providers.chat and the README).

`chat.started` registers the contact and answers whether the chat may go ahead (P10); messages are
kept word for word, encrypted (P8); `chat.ended` fills in the end and length. A chat platform retries
on 5xx, so a failure to store a message answers 503 and loses nothing; so does a `chat.started` whose
registration could be neither stored nor buffered (its claims are given back, so the retry registers
it afresh: all or nothing, P8).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parameters import get_secret

from helpline import clock
from helpline.ingress.http import error_response, header, json_response, raw_body
from helpline.logic.conversation import TranscriptPorts, add_transcript_part, end_contact
from helpline.logic.ingest import (
    IngestPolicy,
    IngestPorts,
    RegistrationNotKeptError,
    UnknownContactError,
    UnknownLineError,
    admit_contact,
)
from helpline.logic.ports import DependencyError
from helpline.metrics import count_admission
from helpline.models.events import ContactEnded, ContactStarted, TranscriptPart
from helpline.providers import chat
from helpline.providers.errors import MalformedEvent, PayloadTooLarge, SignatureError
from helpline.settings import get_settings

logger = Logger(child=True)
SIGNATURE_HEADER = "X-Helpline-Signature"
LIMITED_MESSAGE_NL = (
    "Je hebt vandaag al het maximale aantal gesprekken gevoerd. Morgen kun je ons weer bereiken. Sterkte."
)
SECRET_MAX_AGE_S = 300


def webhook_secret() -> str:
    return str(get_secret(get_settings().chat_webhook_secret_arn, max_age=SECRET_MAX_AGE_S))


def handle(
    event: Mapping[str, Any],
    ports: Callable[[], IngestPorts],
    transcripts: Callable[[], TranscriptPorts],
    policy: Callable[[], IngestPolicy],
    now: datetime,
    secret: Callable[[], str] = webhook_secret,
) -> dict[str, Any]:
    """One chat event (REST proxy event) → its HTTP answer.

    `now` is our receipt time (`helpline.clock.now()`): retention counts from it, and the event's own
    `timestamp` is kept only when plausible, so no `timestamp` can make this a 5xx.
    """
    try:
        body = raw_body(event)
        # The replay window compares with the platform's clock, which a local rehearsal clock does not
        # move: the receipt time less that clock's lead (zero when deployed).
        chat.verify(body, header(event, SIGNATURE_HEADER), secret(), now - clock.offset())
        parsed = chat.parse_event(body)
        if isinstance(parsed, ContactStarted):
            return _started(parsed, ports, policy, now)
        if isinstance(parsed, TranscriptPart):
            stored = add_transcript_part(parsed, transcripts(), policy(), now)
            return json_response(200 if not stored else 201, {"stored": stored})
        return _ended(parsed, ports, now)
    except (SignatureError, MalformedEvent, PayloadTooLarge) as error:
        logger.warning("Chat request refused", extra={"reason": type(error).__name__})
        refused = error_response(error)
        assert refused is not None
        return refused
    except UnknownLineError:
        return json_response(404, {"message": "Not found: no chat line is registered for this channel"})
    except UnknownContactError:
        return json_response(404, {"message": "Not found: no chat was started with this session id"})
    except DependencyError:
        logger.warning("Chat event could not be stored; the platform should retry")
        return json_response(503, {"message": "Temporarily unavailable: please retry"})


def _started(
    started: ContactStarted,
    ports: Callable[[], IngestPorts],
    policy: Callable[[], IngestPolicy],
    now: datetime,
) -> dict[str, Any]:
    admission = admit_contact(started, ports(), policy(), now, require_known_line=True)
    count_admission(started.channel, admission)
    if not admission.kept:
        # Neither stored nor buffered, and its claims given back: the platform retries on 503, and the
        # retry registers the chat afresh. Answered 200, its messages would find no contact (404).
        raise RegistrationNotKeptError("chat registration not kept")
    answer: dict[str, Any] = {"allowed": admission.allowed, "contacts_last_24h": admission.contacts_last_24h}
    if not admission.allowed:
        answer["message"] = LIMITED_MESSAGE_NL
    return json_response(200, answer)


def _ended(ended: ContactEnded, ports: Callable[[], IngestPorts], now: datetime) -> dict[str, Any]:
    applied = end_contact(ended, ports(), now)
    return json_response(200, {"applied": applied})
