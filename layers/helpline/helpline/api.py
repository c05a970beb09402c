"""The Powertools resolver every staff-API function uses: access check first, then safe errors.

Three promises, whatever route a function adds:

- Access is checked against `auth.ROUTE_PERMISSIONS` before Powertools routes or validates anything,
  so an unauthorised caller learns nothing about the request schema (fail closed, DESIGN.md).
- Invalid input is HTTP 400 naming each bad field, and never echoes the submitted value: a request
  can hold identifiers, which must not travel back in a response or into a log (P2, P3).
- Any other failure is a bare 500; details stay out of the response, and the log gets the error type
  and stack only, not the exception's message (which may quote input).
"""

from __future__ import annotations

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

logger = Logger(child=True)

CALLER_CONTEXT_KEY: Final = "caller"
INVALID_REQUEST_MESSAGE: Final = "Invalid request"
INTERNAL_ERROR_MESSAGE: Final = "Internal error"
_PYDANTIC_VALUE_ERROR_PREFIX: Final = "Value error, "


class FieldProblem(BaseModel):
    """One invalid field: where it is (`body.kind`, `path.line_id`) and what is wrong with it."""

    field: str
    problem: str


class ErrorBody(BaseModel):
    """The body of every error response; `errors` only for invalid requests (400)."""

    message: str
    errors: list[FieldProblem] | None = None


def openapi_responses(ok: str, *error_statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI answers of a route: 200 (schema from the return annotation) and `ErrorBody` errors.

    Validation failures are 400 here, not Powertools' 422; `helpline.openapi` drops the 422 entries
    Powertools adds on its own.
    """
    responses: dict[int, OpenAPIResponse] = {HTTPStatus.OK.value: {"description": ok}}
    for status in error_statuses:
        responses[status] = {
            "description": HTTPStatus(status).phrase,
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
        return no_store(denial if denial is not None else super().resolve(event, context))

    async def resolve_async(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """As `resolve`: no route runs, sync or async, without the access check."""
        denial = self._admit(event)
        return no_store(denial if denial is not None else await super().resolve_async(event, context))

    def _admit(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """Put the permitted caller in the context (None), or return the denial answer."""
        try:
            caller = authorize(event, self._permissions)
        except AccessDenied as denial:
            route = route_key(event, self._permissions)
            logger.info("Access denied", extra={"status": denial.status, "route": route})
            return denial_response(denial)
        self.context[CALLER_CONTEXT_KEY] = caller
        return None


def no_store(response: dict[str, Any]) -> dict[str, Any]:
    """The answer with `Cache-Control: no-store`, whichever header form it uses."""
    response.setdefault("multiValueHeaders", {})["Cache-Control"] = ["no-store"]
    headers = response.get("headers")
    if isinstance(headers, dict):
        headers.pop("Cache-Control", None)
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
    return {
        "statusCode": denial.status,
        "body": json.dumps({"message": denial.message}, separators=(",", ":")),
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": [content_types.APPLICATION_JSON]},
    }


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
