"""The Powertools resolver every staff-API function uses: access check first, then safe errors.

Three promises, whatever route a function adds:

- Access is checked against `auth.ROUTE_PERMISSIONS` before Powertools routes or validates anything,
  so an unauthorised caller learns nothing about the request schema (fail closed, DESIGN.md).
- Invalid input is HTTP 400 naming each bad field, and never echoes the submitted value: a request
  can hold identifiers, which must not travel back in a response or into a log (P2, P3).
- A request that fits the schema but breaks a rule no JSON Schema can state (a period too long, a
  token we never issued, a chat line given a phone number) is 422, naming the rule; every route's
  OpenAPI answers list it, so the document says what the API does.
- A body that cannot be read (not JSON, not UTF-8, nested deeper than any of our models) is 400 or 415
  before anything parses it: hostile input never becomes a 500.
- Any other failure is a bare 500; details stay out of the response, and the log gets the error type
  and stack only, not the exception's message (which may quote input).
"""

from __future__ import annotations

import base64
import binascii
import json
import traceback
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from helpline.auth import ROUTE_PERMISSIONS, AccessDenied, Caller, RouteKey, authorize, route_key
from helpline.models.common import RULE_BROKEN, Model

logger = Logger(child=True)

CALLER_CONTEXT_KEY: Final = "caller"
INVALID_REQUEST_MESSAGE: Final = "Invalid request"
INTERNAL_ERROR_MESSAGE: Final = "Internal error"
RULE_BROKEN_MESSAGE: Final = "Request breaks a rule"
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
MAX_BODY_DEPTH: Final = 32
"""Deeper than any model of ours nests: a body nested 5,000 deep is refused before anything recurses."""
_PYDANTIC_VALUE_ERROR_PREFIX: Final = "Value error, "


class FieldProblem(Model):
    """One invalid field: where it is (`body.kind`, `path.line_id`) and what is wrong with it."""

    field: str
    problem: str


class ErrorBody(Model):
    """The body of every error response; `errors` only for invalid requests (400)."""

    message: str
    errors: list[FieldProblem] | None = None


STATUS_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    410: "Gone",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
"""Our own words for each status in openapi.json, not `HTTPStatus.phrase`: Python 3.13 renamed some
(422 "Unprocessable Content", 413 "Content Too Large"), and the document must not depend on the
interpreter that wrote it."""


def status_description(status: int) -> str:
    """The OpenAPI description of an error status; the same on every Python version."""
    return STATUS_DESCRIPTIONS.get(status) or HTTPStatus(status).phrase


def openapi_responses(ok: str, *error_statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI answers of a route: 200 (schema from the return annotation) and `ErrorBody` errors.

    Validation failures are 400 here, not Powertools' 422; `helpline.openapi` drops the 422 entries
    Powertools adds on its own.
    """
    responses: dict[int, OpenAPIResponse] = {HTTPStatus.OK.value: {"description": ok}}
    for status in error_statuses:
        responses[status] = {
            "description": status_description(status),
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
    return responses


def openapi_success(
    status: HTTPStatus, description: str, model: type[BaseModel], *error_statuses: int
) -> dict[int, OpenAPIResponse]:
    """OpenAPI answers of a route whose success is not a plain 200 (201 Created, 202 Accepted)."""
    responses = openapi_responses("unused", *error_statuses)
    del responses[HTTPStatus.OK.value]
    success: OpenAPIResponse = {
        "description": description,
        "content": {content_types.APPLICATION_JSON: {"model": model}},
    }
    return {status.value: success, **responses}


def model_response(status: HTTPStatus, model: BaseModel) -> Response[Any]:
    """A JSON answer with a status other than 200 (201 Created, 202 Accepted), matching `openapi_success`."""
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=model.model_dump(mode="json"),
    )


class UnprocessableRequest(ServiceError):
    """422: the request fits the schema but breaks a rule it cannot state; `message` names the rule."""

    def __init__(self, message: str) -> None:
        super().__init__(HTTPStatus.UNPROCESSABLE_ENTITY.value, message)


class StaffApiResolver(APIGatewayRestResolver):
    """`APIGatewayRestResolver(enable_validation=True)` that authorises before it resolves.

    Every answer, denials included, carries `Cache-Control: no-store`: a staff answer is about people
    who were promised anonymity (a register, a report, a released identifier), and no browser or proxy
    may keep a copy of it.
    """

    def __init__(self, permissions: Mapping[RouteKey, frozenset[str]] = ROUTE_PERMISSIONS) -> None:
        super().__init__(enable_validation=True)
        self._permissions = permissions
        self.exception_handler(RequestValidationError)(_invalid_request)
        self.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
        self.exception_handler(ServiceError)(_service_error)
        self.exception_handler(Exception)(_internal_error)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Answer 401/403 from the permission table, or resolve the route with the caller known."""
        denial = self._admit(event)
        answer = denial if denial is not None else super().resolve(event, context)
        return for_console(event, no_store(answer))

    async def resolve_async(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """As `resolve`: no route runs, sync or async, without the access check."""
        denial = self._admit(event)
        answer = denial if denial is not None else await super().resolve_async(event, context)
        return for_console(event, no_store(answer))

    def _admit(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """Put the permitted caller in the context (None), or return the denial or refusal answer.

        Access first, so an unauthorised caller learns nothing about what a body should look like.
        """
        try:
            caller = authorize(event, self._permissions)
        except AccessDenied as denial:
            route = route_key(event, self._permissions)
            logger.info("Access denied", extra={"status": denial.status, "route": route})
            return denial_response(denial)
        unreadable = body_problem(event)
        if unreadable is not None:
            status, message = unreadable
            logger.info("Unreadable body", extra={"status": status.value, "problem": message})
            return error_response(status, message)
        self.context[CALLER_CONTEXT_KEY] = caller
        return None


def no_store(response: dict[str, Any]) -> dict[str, Any]:
    """The answer with `Cache-Control: no-store`, whichever header form it uses."""
    response.setdefault("multiValueHeaders", {})["Cache-Control"] = ["no-store"]
    headers = response.get("headers")
    if isinstance(headers, dict):
        headers.pop("Cache-Control", None)
    return response


def for_console(event: Mapping[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """The answer readable by the console's browser page when the request comes from its origin.

    The console is served from its own origin (CloudFront, template.yaml); the API names that origin in
    its stage variable `consoleOrigin` (not in the API itself: that would be a circular dependency).
    Only that exact origin is allowed, never `*`; answers to any other origin carry no CORS header.
    """
    allowed = (event.get("stageVariables") or {}).get("consoleOrigin")
    if allowed and _header(event, "origin") == allowed:
        headers = response.setdefault("multiValueHeaders", {})
        headers["Access-Control-Allow-Origin"] = [allowed]
        headers["Vary"] = ["Origin"]
    return response


def create_resolver() -> StaffApiResolver:
    """A new resolver for one staff-API function; routes are added by `helpline.routes` modules."""
    return StaffApiResolver()


def current_caller(app: APIGatewayRestResolver) -> Caller:
    """The authorised caller of the request being resolved (set by `StaffApiResolver.resolve`)."""
    caller = app.context.get(CALLER_CONTEXT_KEY)
    if not isinstance(caller, Caller):
        # Only reachable if a resolver bypassed the access check: refuse rather than guess.
        raise RuntimeError("request resolved without an access check")
    return caller


def denial_response(denial: AccessDenied) -> dict[str, Any]:
    """The REST proxy answer for a denial, shaped as Powertools shapes its own answers."""
    return error_response(HTTPStatus(denial.status), denial.message)


def error_response(status: HTTPStatus, message: str) -> dict[str, Any]:
    """A REST proxy answer with an `ErrorBody`, for answers given before Powertools resolves."""
    return {
        "statusCode": status.value,
        "body": json.dumps({"message": message}, separators=(",", ":")),
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": [content_types.APPLICATION_JSON]},
    }


def body_problem(event: Mapping[str, Any]) -> tuple[HTTPStatus, str] | None:
    """Why the body of a POST/PUT/PATCH cannot be read as our JSON, or None if it can (or there is none).

    Powertools would raise on these inside its own parsing (ValueError on multipart without a boundary,
    UnicodeDecodeError on `\\xff`, RecursionError on JSON nested 5,000 deep), which ends as a 500.
    A body that is JSON but does not fit the model is left to Powertools' validation (400 by field).
    """
    body = event.get("body")
    if str(event.get("httpMethod", "")).upper() not in BODY_METHODS or body in (None, ""):
        return None
    media_type = _header(event, "content-type").split(";")[0].strip().lower()
    if media_type and media_type != content_types.APPLICATION_JSON and not media_type.endswith("+json"):
        return HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Send the body as application/json"
    text = _body_text(body, bool(event.get("isBase64Encoded")))
    if text is None:
        return HTTPStatus.BAD_REQUEST, "Body is not valid UTF-8"
    try:
        document = json.loads(text)
    except RecursionError:
        return HTTPStatus.BAD_REQUEST, "Body is nested too deeply"
    except ValueError:
        return None  # not JSON: Powertools' validation says so, as for every other invalid body
    if _depth_exceeds(document, MAX_BODY_DEPTH):
        return HTTPStatus.BAD_REQUEST, "Body is nested too deeply"
    return None


def _header(event: Mapping[str, Any], name: str) -> str:
    headers = event.get("headers") or {}
    for key, value in headers.items():
        if key.lower() == name and isinstance(value, str):
            return value
    return ""


def _body_text(body: Any, base64_encoded: bool) -> str | None:
    """The body as text, or None when it is not UTF-8 (or claims base64 and is not)."""
    try:
        raw = base64.b64decode(body, validate=True) if base64_encoded else body
        if isinstance(raw, bytes):
            return raw.decode("utf-8")
        text = str(raw)
        text.encode("utf-8")  # lone surrogates from a lenient decoder upstream are not UTF-8 either
        return text
    except (binascii.Error, UnicodeError, ValueError):
        return None


def _depth_exceeds(document: Any, limit: int) -> bool:
    """True when `document` nests lists or objects deeper than `limit`; iterative, so never recurses."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def describe_validation_errors(errors: Sequence[Any]) -> list[FieldProblem]:
    """Field and problem of each pydantic error; its `input` and `ctx` are dropped, never shown."""
    return [
        FieldProblem(field=_field(error), problem=_problem(error))
        for error in errors
        if isinstance(error, Mapping)
    ]


def _field(error: Mapping[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "body"  # Powertools puts the character offset in `loc`; the field is the body
    return ".".join(str(part) for part in error.get("loc", ())) or "body"


def _problem(error: Mapping[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "Body is not valid JSON"
    message = str(error.get("msg") or "Invalid value").removeprefix(_PYDANTIC_VALUE_ERROR_PREFIX)
    submitted = error.get("input")
    # Pydantic messages name expectations, not values; should one ever quote the input, drop it.
    if isinstance(submitted, str) and len(submitted) >= 3 and submitted in message:
        return f"Invalid value ({error.get('type', 'invalid')})"
    return message


def _json_error(status: HTTPStatus, body: ErrorBody) -> Response[Any]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", exclude_none=True),
    )


def _invalid_request(error: RequestValidationError) -> Response[Any]:
    problems = describe_validation_errors(error.errors())
    details = [detail for detail in error.errors() if isinstance(detail, Mapping)]
    if details and all(detail.get("type") == RULE_BROKEN for detail in details):
        logger.info("Rule broken", extra={"fields": [_field(detail) for detail in details]})
        return _json_error(
            HTTPStatus.UNPROCESSABLE_ENTITY, ErrorBody(message=RULE_BROKEN_MESSAGE, errors=problems)
        )
    # Only fields the model declares are named in the log: an unexpected key is itself input.
    fields = [
        "(unexpected field)" if detail.get("type") == "extra_forbidden" else _field(detail)
        for detail in error.errors()
        if isinstance(detail, Mapping)
    ]
    logger.info("Invalid request", extra={"fields": fields})
    return _json_error(HTTPStatus.BAD_REQUEST, ErrorBody(message=INVALID_REQUEST_MESSAGE, errors=problems))


def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response[Any]:
    return _json_error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, ErrorBody(message="Unsupported content type"))


def _service_error(error: ServiceError) -> Response[Any]:
    """Powertools' HTTP errors (404 for an unknown route, ...), in our body shape."""
    return _json_error(HTTPStatus(error.status_code), ErrorBody(message=error.msg))


def _internal_error(error: Exception) -> Response[Any]:
    logger.error(
        "Unhandled error",
        extra={
            "error_type": type(error).__name__,
            "stack": "".join(traceback.format_tb(error.__traceback__)),
        },
    )
    return _json_error(HTTPStatus.INTERNAL_SERVER_ERROR, ErrorBody(message=INTERNAL_ERROR_MESSAGE))
