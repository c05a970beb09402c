"""Both parties of a disclosure over moto, in one account as the local stack runs them (P3, P7).

The organisation's tables come from template.yaml, the custodian's ReleasesTable from
infrastructure/custodian/template.yaml; the custodian reads and writes the organisation's tables by ARN,
as it does across accounts. Identifiers are sealed by the real vault under a per-period key aliased
`alias/test-custodian/identifiers/<YYYY-MM>`, the way ingest seals them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Final

import boto3
import pytest
from conftest import REPO_ROOT, TABLE_PROPERTIES, create_table_from_template

from helpline import identifiers, periods
from helpline.dal.dynamodb import to_item
from helpline.dal.kms import KmsIdentifierVault
from helpline.models.contacts import ContactRecord
from local_stack.template import load_template

REGION: Final = "eu-west-1"
ACCOUNT: Final = "123456789012"
ALIAS_NAME_PREFIX: Final = "alias/test-custodian/identifiers"
ALIAS_PREFIX: Final = f"arn:aws:kms:{REGION}:{ACCOUNT}:{ALIAS_NAME_PREFIX}"
CUSTODIAN_TEMPLATE: Final = REPO_ROOT / "infrastructure/custodian/template.yaml"

NUMBER: Final = "+31612345678"
CALL_SID: Final = "CA0123456789abcdef0123456789abcdef"
SECRETS: Final = (NUMBER, "0612345678", "06-12345678", "612345678", CALL_SID)
"""The identifier in every format a log line or an answer might carry it, and the provider reference."""

LEGAL_ORDER: Final = {
    "reference": "VIG-2026-001",
    "officer_of_justice": "mr. A. de Vries",
    "prosecutor_office": "Parket Midden-Nederland",
    "issued_on": "2026-03-14",
    "document_sha256": "a" * 64,
}


def create_custodian_table(logical_id: str) -> str:
    """Create the table `logical_id` as the custodian's template declares it; returns its name."""
    declared = load_template(CUSTODIAN_TEMPLATE)["Resources"][logical_id]["Properties"]
    name = f"{logical_id}-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb").create_table(
        TableName=name, **{key: declared[key] for key in TABLE_PROPERTIES if key in declared}
    )
    return name


def table_arn(name: str) -> str:
    return str(boto3.client("dynamodb").describe_table(TableName=name)["Table"]["TableArn"])


def create_period_keys(moments: Iterable[datetime]) -> None:
    """A custodian identifier key for the period of each moment, under its period alias."""
    kms = boto3.client("kms")
    for period in sorted({periods.period_of(moment) for moment in moments}):
        key_id = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"][
            "KeyId"
        ]
        kms.create_alias(AliasName=periods.key_alias(ALIAS_NAME_PREFIX, period), TargetKeyId=key_id)


def put_contact(
    table: str,
    contact_id: str,
    received_at: datetime,
    retain_until: date | None,
    sealed_for: str | None = None,
) -> None:
    """A helpline contact whose identifier (NUMBER, CALL_SID) is sealed for `sealed_for` (default: itself)
    under the key of its period; `retain_until=None` stores no ciphertext at all (erased)."""
    ciphertext = None
    if retain_until is not None:
        vault = KmsIdentifierVault(ALIAS_PREFIX, "unused-pseudonym-key")
        ciphertext = vault.seal(
            sealed_for or contact_id,
            "voice",
            identifiers.phone(NUMBER),
            identifiers.reference(CALL_SID),
            received_at,
        )
    record = ContactRecord(
        id=contact_id,
        channel="voice",
        line="national",
        started_at=received_at,
        region="Utrecht",
        limit_outcome="allowed",
        identifier_ciphertext=ciphertext,
        identifier_retain_until=retain_until,
    )
    boto3.client("dynamodb").put_item(
        TableName=table, Item=to_item(record.model_dump(mode="json", exclude_none=True))
    )


def custodian_environment(monkeypatch: pytest.MonkeyPatch, contacts_table: str, results_table: str) -> str:
    """The custodian's functions' variables; returns the ReleasesTable's name."""
    releases = create_custodian_table("ReleasesTable")
    monkeypatch.setenv("RELEASES_TABLE", releases)
    monkeypatch.setenv("ORGANISATION_CONTACTS_TABLE_ARN", table_arn(contacts_table))
    monkeypatch.setenv("ORGANISATION_DISCLOSURE_RESULTS_TABLE_ARN", table_arn(results_table))
    monkeypatch.setenv("IDENTIFIER_KEY_ALIAS_PREFIX", ALIAS_PREFIX)
    monkeypatch.setenv("RELEASE_CONFIRMATION_SECONDS", "600")
    return releases


def organisation_table(logical_id: str) -> str:
    return create_table_from_template(logical_id)


def leaks(*texts: Any) -> list[str]:
    """Which of SECRETS appear in any of `texts` (answers, errors, log output, table dumps)."""
    joined = "\n".join(str(text) for text in texts)
    return [secret for secret in SECRETS if secret in joined]
