"""GET /audit and GET /audit/verify (compliance): the tamper-evident audit log and its check (P7).

Every step of a disclosure (P7), every transcript read (P4) and every listening-in record (P9) is on the
hash chain of `helpline.logic.audit`. Compliance lists it, oldest first and a page at a time, and has it
walked: the verdict names the first entry that was changed, removed or inserted, and, against the signed
checkpoints in the custodian's write-once bucket (`helpline.logic.audit_checkpoints`), entries removed at
the tail and a chain rewritten and re-hashed. Entries hold who, what, when and which request or contact,
never an identifier (P2, P3), so listing them discloses nothing.

The walk reads the chain and the checkpoints a page at a time, side by side: memory does not grow with
the chain. It still reads all of it, so its time does (`bench/audit.py`).

Who may call these is decided in `helpline.auth.ROUTE_PERMISSIONS` (compliance only), before these run.
A page's JSON (or several, as a list) is what `python -m helpline.audit_verify` checks offline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Final, Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import ConfigDict, Field

from helpline.api import StaffApiResolver, create_resolver, openapi_responses
from helpline.dal.audit import audit_log
from helpline.dal.checkpoints import checkpoint_store, signing_public_key
from helpline.logic.audit import DEFAULT_VERIFY_PAGE, AuditEntry, AuditReader, chain_entries
from helpline.logic.audit_checkpoints import (
    PublicKeyChecker,
    StoredCheckpoint,
)
from helpline.logic.checkpoint_verification import (
    AuditVerdict,
    verify_audit,
)
from helpline.models.common import Model

TAGS = ["audit"]
DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 500

logger = Logger(child=True)


class CheckpointSource(Protocol):
    """The signed checkpoints, every version, in seq order (`S3CheckpointStore`)."""

    def stored(self) -> Iterator[StoredCheckpoint]:
        """Each checkpoint object as read."""
        ...


class AuditPage(Model):
    """One page of the chain, oldest first; `next_token` is the `after` of the next page (None: last)."""

    model_config = ConfigDict(extra="forbid")

    items: list[AuditEntry]
    next_token: str | None = Field(default=None, description="Pass as `after` for the next page")


def create_audit_app(
    log: Callable[[], AuditReader] = audit_log,
    checkpoints: Callable[[], CheckpointSource] = checkpoint_store,
    public_key: Callable[[], bytes] = signing_public_key,
    page_size: int = DEFAULT_VERIFY_PAGE,
) -> StaffApiResolver:
    """A resolver with the audit routes (P7); the arguments are the seams for tests."""
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
            "Walks the whole chain, a page at a time, and checks it against every signed checkpoint in the "
            "custodian's write-once store (P7). `first_problem` names the first entry changed, removed or "
            "inserted, or else what a checkpoint showed: entries removed at the tail (the missing seq range) "
            "or a rewrite (the first seq that differs and the checkpoint that caught it). "
            "`checkpoint_problems` lists everything the checkpoints showed, bad signatures included; "
            "`unanchored_entries` are those newer than the newest checkpoint."
        ),
        tags=TAGS,
        operation_id="verifyAudit",
        responses=openapi_responses("The verdict", 401, 403, 500),
    )
    def get_audit_verify() -> AuditVerdict:
        checker = PublicKeyChecker(public_key())
        verdict = verify_audit(chain_entries(log(), page_size), checkpoints().stored(), checker)
        problem = verdict.first_problem
        logger.info(
            "Audit chain verified",
            extra={
                "ok": verdict.ok,
                "entries": verdict.entries,
                "problem_seq": problem.seq if problem is not None else None,
                "problem_kind": problem.kind if problem is not None else None,
                "checkpoints": verdict.checkpoints,
                "checkpoint_problems": verdict.checkpoint_problem_count,
                "checkpoint_problem_kinds": sorted({found.kind for found in verdict.checkpoint_problems}),
                "unanchored_entries": verdict.unanchored_entries,
            },
        )
        return verdict

    return app
