"""Print the staff API's OpenAPI document: `python -m helpline.openapi > openapi.json`.

Generated from the Powertools resolvers themselves, so the document cannot drift from the routes and
models; `make openapi-check` diffs it against the committed openapi.json, hence the output must be
byte-for-byte deterministic (sorted keys, indent 2, one trailing newline).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any, Final

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from helpline.api import BODY_METHODS, status_description
from helpline.openapi_webhooks import webhook_spec
from helpline.routes.audit import create_audit_app
from helpline.routes.contacts import create_contacts_app
from helpline.routes.disclosures import create_disclosures_app
from helpline.routes.lines import create_lines_app
from helpline.routes.reports import create_reports_app
from helpline.routes.stats import create_stats_app
from helpline.routes.supervision import create_supervision_app
from helpline.routes.transcripts import create_transcripts_app

TITLE: Final = "Helpline API"
VERSION: Final = "0.1.0"
DESCRIPTION: Final = (
    "Staff API of the helpline back end and the provider webhooks. Staff routes take a Cognito ID token; "
    "access per route follows the Cognito groups (helpline.auth.ROUTE_PERMISSIONS). Webhooks are signed "
    "by the provider instead. No response carries a caller identifier (POLICY.md P2, P3)."
)
SECURITY_SCHEME: Final = "cognito"
UNPROCESSABLE_ENTITY: Final = "422"
POWERTOOLS_VALIDATION_SCHEMA: Final = "HTTPValidationError"
WEBHOOK_PREFIX: Final = "/webhooks/"
NOT_FOUND: Final = HTTPStatus.NOT_FOUND
BAD_REQUEST: Final = HTTPStatus.BAD_REQUEST
UNSUPPORTED_MEDIA_TYPE: Final = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
SCHEMA_REF_PREFIX: Final = "#/components/schemas/"
POWERTOOLS_ERROR_SCHEMAS: Final = (
    "HTTPValidationError",
    "ResponseValidationError",
    "ValidationError",
)

STAFF_API: Final[Sequence[Callable[[], APIGatewayRestResolver]]] = (
    create_lines_app,
    create_contacts_app,
    create_stats_app,
    create_reports_app,
    create_transcripts_app,
    create_supervision_app,
    create_audit_app,
    create_disclosures_app,
)
"""Factories of every staff-API resolver; add one here when a function gets its routes."""


def _resolver_spec(resolver: APIGatewayRestResolver) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        resolver.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            security_schemes={
                SECURITY_SCHEME: HTTPBearer(
                    scheme="bearer",
                    bearerFormat="JWT",
                    description=("Cognito ID token, as `Authorization: Bearer <token>` or the bare token"),
                )
            },
            security=[{SECURITY_SCHEME: []}],
        )
    )
    return document


def build_spec(
    factories: Sequence[Callable[[], APIGatewayRestResolver]] = STAFF_API,
) -> dict[str, Any]:
    """One document from all resolvers; a path or schema defined twice, differently, is an error."""
    merged: dict[str, Any] | None = None
    for factory in factories:
        part = _resolver_spec(factory())
        if merged is None:
            merged = part
            continue
        _merge_into(merged.setdefault("paths", {}), part.get("paths", {}), "path")
        schemas = merged.setdefault("components", {}).setdefault("schemas", {})
        _merge_into(schemas, part.get("components", {}).get("schemas", {}), "schema")
    if merged is None:
        raise ValueError("no staff-API resolvers")
    webhooks = webhook_spec()
    _merge_into(merged.setdefault("paths", {}), webhooks["paths"], "path")
    _merge_into(merged["components"].setdefault("schemas", {}), webhooks["components"]["schemas"], "schema")
    _drop_powertools_validation_answers(merged)
    _document_resolver_answers(merged)
    return merged


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in spec.get("paths", {}).items()
        for method, operation in operations.items()
        if isinstance(operation, dict)
    ]


def _drop_powertools_validation_answers(spec: dict[str, Any]) -> None:
    """Remove the 422 answers Powertools documents for its validation: `helpline.api` answers 400.

    A 422 a route declares itself (a rule the schema cannot state) stays. Then drop Powertools' own
    error schemas that nothing refers to any more.
    """
    for _, _, operation in _operations(spec):
        responses = operation.get("responses", {})
        if POWERTOOLS_VALIDATION_SCHEMA in json.dumps(responses.get(UNPROCESSABLE_ENTITY, {})):
            del responses[UNPROCESSABLE_ENTITY]
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    for name in POWERTOOLS_ERROR_SCHEMAS:  # referrers first, so their referents go too
        definition = schemas.pop(name, None)
        if definition is not None and f'{SCHEMA_REF_PREFIX}{name}"' in json.dumps(spec):
            schemas[name] = definition


def _document_resolver_answers(spec: dict[str, Any]) -> None:
    """Add the answers `helpline.api` gives on every staff route of a kind, whatever the route declares.

    - 404 on a route with a path parameter: API Gateway and Powertools match a path segment only when it
      holds URL-safe characters, so `/contacts/%C2%84/reports` matches no route (and an id may name
      nothing).
    - 400 and 415 on a route that takes a body: one that is not UTF-8 JSON, or is nested too deeply,
      is 400; one sent as another media type is 415.
    Webhooks are the providers' contract, documented by `helpline.openapi_webhooks` as they are.
    """
    for path, method, operation in _operations(spec):
        if path.startswith(WEBHOOK_PREFIX):
            continue
        responses = operation.setdefault("responses", {})
        answers = [NOT_FOUND] if "{" in path else []
        if method.upper() in BODY_METHODS:
            answers += [BAD_REQUEST, UNSUPPORTED_MEDIA_TYPE]
        for status in answers:
            responses.setdefault(
                str(status.value),
                {
                    "description": status_description(status.value),
                    "content": {"application/json": {"schema": {"$ref": f"{SCHEMA_REF_PREFIX}ErrorBody"}}},
                },
            )


def _merge_into(target: dict[str, Any], source: dict[str, Any], what: str) -> None:
    for name, value in source.items():
        if name in target and target[name] != value:
            raise ValueError(f"{what} {name} is defined differently by two resolvers")
        target[name] = value


def render(spec: dict[str, Any]) -> str:
    """The document as committed: sorted keys, indent 2, trailing newline."""
    return json.dumps(spec, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write the document to standard output."""
    sys.stdout.write(render(build_spec()))


if __name__ == "__main__":
    main()
