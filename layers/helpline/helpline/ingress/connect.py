"""Amazon Connect: the contact-flow invocation and the DISCONNECTED contact event.

The contact flow branches on the flat string map we return; whatever fails on our side, the answer is
`allowed: "true"` with the normal routing, so a person in crisis is always connected (DESIGN).
Calls and chats alike are registered (P8): a chat, which Connect sends without any endpoint, on the
line its flow names (`lineAddress`) or on `unknown`; a registration that could be neither stored nor
buffered has given its claims back and is not retried (Connect does not call again once answered).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from helpline import snapstart
from helpline.identifiers import warm_phone_numbers
from helpline.logic.conversation import end_contact
from helpline.logic.ingest import IngestPolicy, IngestPorts, UnknownContactError, admit_contact
from helpline.metrics import count_admission
from helpline.providers import connect
from helpline.providers.errors import MalformedEvent

logger = Logger(child=True)
# Calls carry phone numbers: parse one before the snapshot so that the first caller does not wait.
snapstart.before_snapshot(warm_phone_numbers)
ALLOWED_MESSAGE_NL = "Je wordt zo doorverbonden met een vrijwilliger."
LIMITED_MESSAGE_NL = (
    "Je hebt vandaag al het maximale aantal keren contact gehad. Morgen kun je ons weer bereiken."
)


def contact_flow(
    event: Mapping[str, Any],
    ports: Callable[[], IngestPorts],
    policy: Callable[[], IngestPolicy],
    now: datetime,
) -> dict[str, str]:
    """A contact flow's `InvokeLambdaFunction` → `{"allowed", "contactsLast24h", "message"}`."""
    try:
        started = connect.contact_flow_event(event, now)
    except MalformedEvent as error:
        logger.warning("Connect event not understood; connecting anyway", extra={"problem": error.problem})
        return connect.flow_response(True, None, ALLOWED_MESSAGE_NL)
    try:
        admission = admit_contact(started, ports(), policy(), now)
        count_admission(started.channel, admission)
    except Exception:
        logger.exception("Registration failed; connecting anyway")
        return connect.flow_response(True, None, ALLOWED_MESSAGE_NL)
    message = ALLOWED_MESSAGE_NL if admission.allowed else LIMITED_MESSAGE_NL
    return connect.flow_response(admission.allowed, admission.contacts_last_24h, message)


def contact_event(event: Mapping[str, Any], ports: Callable[[], IngestPorts], now: datetime) -> bool:
    """An EventBridge contact event: True if it ended a registered contact.

    `now` is our receipt time: Connect's disconnect time is kept only when plausible. A failure raises,
    so EventBridge retries the event (the rule's retry policy).
    """
    ended = connect.disconnected_event(event)
    if ended is None:
        return False
    try:
        return end_contact(ended, ports(), now)
    except UnknownContactError:
        logger.info("DISCONNECTED for a contact we have not registered; ignored")
        return False
