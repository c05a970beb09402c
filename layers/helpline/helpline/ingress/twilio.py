"""Twilio Programmable Voice: `POST /webhooks/twilio/voice` and `POST /webhooks/twilio/status`.

A caller in crisis must never be left unanswered: once the request is known to come from Twilio,
every failure of ours still answers with the line's routing (fail open, DESIGN). Only a request that
Twilio did not sign is refused (403) — and then nothing is written and no number is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parameters import get_secret

from helpline import snapstart
from helpline.identifiers import warm_phone_numbers
from helpline.ingress.http import error_response, header, raw_body, response
from helpline.logic.conversation import end_contact
from helpline.logic.ingest import IngestPolicy, IngestPorts, UnknownContactError, admit_contact
from helpline.logic.ports import DependencyError
from helpline.metrics import count_admission
from helpline.providers import twilio
from helpline.providers.errors import MalformedEvent, PayloadTooLarge, SignatureError
from helpline.settings import get_settings

logger = Logger(child=True)
# Calls carry phone numbers: parse one before the snapshot so that the first caller does not wait.
snapstart.before_snapshot(warm_phone_numbers)
DEFAULT_QUEUE = "volunteers"
XML = "text/xml"
SECRET_MAX_AGE_S = 300


def auth_token() -> str:
    """Twilio's auth token from Secrets Manager, cached for five minutes (rotation takes effect)."""
    return str(get_secret(get_settings().twilio_auth_token_secret_arn, max_age=SECRET_MAX_AGE_S))


def handle(
    event: Mapping[str, Any],
    ports: Callable[[], IngestPorts],
    policy: Callable[[], IngestPolicy],
    now: datetime,
    token: Callable[[], str] = auth_token,
) -> dict[str, Any]:
    """One Twilio webhook request (REST proxy event) → its HTTP answer."""
    try:
        params = twilio.parse_form(raw_body(event).decode("utf-8", "replace"), is_base64=False)
        url = twilio.public_url(
            get_settings().public_base_url,
            event.get("headers") or {},
            (event.get("requestContext") or {}).get("stage"),
            str(event.get("resource") or event.get("path") or ""),
            _query(event),
        )
        twilio.verify_signature(url, params, header(event, "X-Twilio-Signature"), token())
        if str(event.get("resource", "")).endswith("/status"):
            return _status(params, ports, now)
        return _incoming_call(params, ports, policy, now)
    except (SignatureError, MalformedEvent, PayloadTooLarge) as error:
        logger.warning("Twilio request refused", extra={"reason": type(error).__name__})
        refused = error_response(error)
        assert refused is not None
        return refused


def _incoming_call(
    params: list[tuple[str, str]],
    ports: Callable[[], IngestPorts],
    policy: Callable[[], IngestPolicy],
    now: datetime,
) -> dict[str, Any]:
    try:
        started = twilio.incoming_call(params, now)
    except MalformedEvent as error:
        # Signed by Twilio, so a real caller is waiting: route the call, register nothing.
        logger.error("Incoming call not understood; routing it anyway", extra={"problem": error.problem})
        return response(200, twilio.routing_twiml(DEFAULT_QUEUE), XML)
    try:
        admission = admit_contact(started, ports(), policy(), now)
        count_admission(started.channel, admission)
    except Exception:
        # A bug or an outage we did not foresee must not leave a caller hanging: route the call.
        logger.exception("Registration failed; routing the call anyway")
        return response(200, twilio.routing_twiml(DEFAULT_QUEUE), XML)
    if not admission.allowed:
        return response(200, twilio.limited_twiml(), XML)
    queue = admission.line.queue if admission.line and admission.line.queue else DEFAULT_QUEUE
    return response(200, twilio.routing_twiml(queue), XML)


def _status(params: list[tuple[str, str]], ports: Callable[[], IngestPorts], now: datetime) -> dict[str, Any]:
    ended = twilio.status_callback(params, now)
    if ended is not None:
        try:
            end_contact(ended, ports(), now)
        except UnknownContactError:
            logger.info("Status callback for a call we have not registered; ignored")
        except DependencyError:
            logger.warning("Call end could not be stored nor buffered; asking Twilio to retry")
            return response(503, twilio.empty_twiml(), XML)
    return response(200, twilio.empty_twiml(), XML)


def _query(event: Mapping[str, Any]) -> str | None:
    """The query string as Twilio sent it (rebuilt from API Gateway's parsed parameters)."""
    values = event.get("multiValueQueryStringParameters") or {}
    if not values:
        return None
    return urlencode([(name, value) for name, items in values.items() for value in items])
