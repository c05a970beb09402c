"""The production adapters behind the ingestion ports, built once per process on first use.

Handlers call these instead of constructing adapters, so a warm Lambda reuses its clients, its
data-key cache and its copy of the line registry; tests and benchmarks build `IngestPorts` from the
in-memory fakes instead.
"""

from __future__ import annotations

from functools import cache

from helpline import snapstart
from helpline.dal.buffer import registration_buffer
from helpline.dal.contacts import contacts_repository
from helpline.dal.kms import identifier_vault, transcript_sealer
from helpline.dal.limits import limit_counter
from helpline.dal.line_directory import CachedLineDirectory
from helpline.dal.office import office_contact_store
from helpline.dal.references import reference_index
from helpline.dal.transcripts import transcript_store
from helpline.logic.conversation import TranscriptPorts
from helpline.logic.ingest import IngestPolicy, IngestPorts
from helpline.settings import get_settings


@cache
def ingest_ports() -> IngestPorts:
    return IngestPorts(
        lines=CachedLineDirectory(),
        vault=identifier_vault(),
        limits=limit_counter(),
        references=reference_index(),
        contacts=contacts_repository(),
        buffer=registration_buffer(),
        office=office_contact_store(),
    )


@cache
def transcript_ports() -> TranscriptPorts:
    return TranscriptPorts(
        vault=identifier_vault(),
        references=reference_index(),
        sealer=transcript_sealer(),
        transcripts=transcript_store(),
    )


@cache
def ingest_policy() -> IngestPolicy:
    settings = get_settings()
    return IngestPolicy(
        default_daily_limit=settings.contact_limit_per_day,
        identifier_retention_days=settings.identifier_retention_days,
        office_retention_days=settings.office_retention_days,
        transcript_retention_days=settings.transcript_retention_days,
        register_retention_days=settings.register_retention_days,
    )


# SnapStart: restored environments build their own adapters (clients, data-key caches, line copy).
snapstart.after_restore(ingest_ports.cache_clear)
snapstart.after_restore(transcript_ports.cache_clear)
