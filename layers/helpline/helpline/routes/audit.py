"""GET /audit and GET /audit/verify (compliance): the tamper-evident audit log and its check (P7).

Every step of a disclosure (P7), every transcript read (P4) and every listening-in record (P9) is on the
hash chain of `helpline.logic.audit`. Compliance lists it, oldest first and a page at a time, and has it
walked: the verdict names the first entry that was changed, removed or inserted. Entries hold who, what,
when and which request or contact, never an identifier (P2, P3), so listing them discloses nothing.

Who may call these is decided in `helpline.auth.ROUTE_PERMISSIONS` (compliance only), before these run.
A page's JSON (or several, as a list) is what `python -m helpline.audit_verify` checks offline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Final, Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field

from helpline.api import StaffApiResolver, create_resolver, openapi_responses
from helpline.dal.audit import audit_log
from helpline.logic.audit import AuditEntry, ChainVerdict, verify_chain

TAGS = ["audit"]
DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 500

logger = Logger(child=True)


class AuditReader(Protocol):
    """The chain read in seq order (`DynamoAuditLog`)."""

    def entries(self, after_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """Entries with seq > `after_seq`, oldest first, at most `limit`."""
        ...


class AuditPage(BaseModel):
    """One page of the chain, oldest first; `next_token` is the `after` of the next page (None: last)."""

    model_config = ConfigDict(extra="forbid")

    items: list[AuditEntry]
    next_token: str | None = Field(default=None, description="Pass as `after` for the next page")


def create_audit_app(log: Callable[[], AuditReader] = audit_log) -> StaffApiResolver:
    """A resolver with the audit routes (P7); `log` is the seam for tests."""
    app = create_resolver()

    @app.get(
        "/audit",
        summary="List the audit log",
        description=(
            "Entries of the hash chain oldest first, by seq: who, what, when and which request or contact, "
            "never an identifier (P7). `after` is the last seq already seen (or the previous `next_token`)."
        ),
        tags=TAGS,
        operation_id="listAudit",
        responses=openapi_responses("A page of the chain", 400, 401, 403, 500),
    )
    def get_audit(
        after: Annotated[int, Query(ge=0, description="Entries with a higher seq than this")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = DEFAULT_PAGE_SIZE,
    ) -> AuditPage:
        found = log().entries(after_seq=after, limit=limit + 1)  # one more tells whether a page follows
        page = found[:limit]
        more = len(found) > limit
        return AuditPage(items=page, next_token=str(page[-1].seq) if more else None)

    @app.get(
        "/audit/verify",
        summary="Verify the audit log",
        description=(
            "Walks the whole chain and names the first entry that was changed, removed or inserted (P7). "
            "Cutting entries off the end is seen only by comparing `last_seq` and `last_hash` over time."
        ),
        tags=TAGS,
        operation_id="verifyAudit",
        responses=openapi_responses("The verdict", 401, 403, 500),
    )
    def get_audit_verify() -> ChainVerdict:
        verdict = verify_chain(log().entries())
        problem = verdict.first_problem
        logger.info(
            "Audit chain verified",
            extra={
                "ok": verdict.ok,
                "entries": verdict.entries,
                "problem_seq": problem.seq if problem is not None else None,
                "problem_kind": problem.kind if problem is not None else None,
            },
        )
        return verdict

    return app
