"""The period key policy (P3, P7, P8): the organisation encrypts but never decrypts an identifier, one role
decrypts and only with the purpose, administration belongs to the key's own account and holds no
cryptographic action, and nothing is a wildcard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpline.period_key_policy import ADMIN_ACTIONS, period_key_policy

CUSTODIAN = "111122223333"
ORGANISATION = "444455556666"
DECRYPT_ROLE = f"arn:aws:iam::{CUSTODIAN}:role/helpline-custodian-DisclosureDecryptRole-ABC"
CRYPTOGRAPHIC = {
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateMac",
    "kms:VerifyMac",
    "kms:Sign",
    "kms:Verify",
    "kms:CreateGrant",  # a grant would hand out the cryptographic actions
    "kms:ImportKeyMaterial",
}


@pytest.fixture
def policy() -> dict[str, Any]:
    return period_key_policy(
        admin_account=CUSTODIAN,
        encrypt_account=ORGANISATION,
        decrypt_role_arn=DECRYPT_ROLE,
        purpose="contact-identifier",
    )


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = policy["Statement"]
    return found


def actions(statement: dict[str, Any]) -> set[str]:
    value = statement["Action"]
    return {value} if isinstance(value, str) else set(value)


def allowed(policy: dict[str, Any], principal: str, action: str) -> list[dict[str, Any]]:
    """The Allow statements that grant `action` to `principal` (by exact principal, as KMS matches)."""
    return [
        statement
        for statement in statements(policy)
        if statement["Effect"] == "Allow"
        and statement["Principal"]["AWS"] == principal
        and action in actions(statement)
    ]


def test_the_policy_is_plain_json_with_three_statements(policy: dict[str, Any]) -> None:
    assert json.loads(json.dumps(policy)) == policy
    assert policy["Version"] == "2012-10-17"
    assert len(statements(policy)) == 3
    assert all(statement["Effect"] == "Allow" for statement in statements(policy))


def test_no_wildcard_action_and_no_wildcard_principal(policy: dict[str, Any]) -> None:
    """Issue 8 §5: no principal gets `kms:*`; a wildcard would also grant future KMS actions."""
    for statement in statements(policy):
        for action in actions(statement):
            assert "*" not in action
            assert "?" not in action
            assert action.startswith("kms:")
        assert statement["Principal"] != "*"
        assert "*" not in statement["Principal"]["AWS"]
    assert "kms:*" not in json.dumps(policy)


def test_administration_holds_no_cryptographic_action(policy: dict[str, Any]) -> None:
    """P3/P7: whoever administers the key cannot use it; the list is explicit."""
    (admin,) = allowed(policy, f"arn:aws:iam::{CUSTODIAN}:root", "kms:ScheduleKeyDeletion")
    assert actions(admin) == set(ADMIN_ACTIONS)
    assert not actions(admin) & CRYPTOGRAPHIC
    assert "Condition" not in admin
    for needed in (
        "kms:CreateAlias",
        "kms:DeleteAlias",
        "kms:UpdateAlias",
        "kms:DescribeKey",
        "kms:EnableKey",
        "kms:DisableKey",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
        "kms:GetKeyPolicy",
        "kms:PutKeyPolicy",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateKeyDescription",
    ):
        assert needed in actions(admin), needed
    assert any(action.startswith("kms:List") for action in actions(admin))


def test_the_organisation_may_encrypt_only_with_the_purpose_and_never_decrypt(policy: dict[str, Any]) -> None:
    """P3: ingest seals identifiers; the organisation can never open them again."""
    organisation = f"arn:aws:iam::{ORGANISATION}:root"
    (encrypt,) = allowed(policy, organisation, "kms:GenerateDataKey")
    assert actions(encrypt) == {"kms:GenerateDataKey", "kms:Encrypt"}
    assert encrypt["Condition"] == {"StringEquals": {"kms:EncryptionContext:purpose": "contact-identifier"}}
    for statement in statements(policy):
        if ORGANISATION in statement["Principal"]["AWS"]:
            assert statement is encrypt
            assert not actions(statement) & (CRYPTOGRAPHIC - {"kms:GenerateDataKey", "kms:Encrypt"})
    assert not any(
        ORGANISATION in statement["Principal"]["AWS"] and "kms:PutKeyPolicy" in actions(statement)
        for statement in statements(policy)
    ), "an organisation admin must not be able to grant itself Decrypt"


def test_exactly_one_role_may_decrypt_and_only_with_the_purpose(policy: dict[str, Any]) -> None:
    """P7: only the custodian's decrypt role opens an identifier, for an identifier's purpose."""
    decrypting = [statement for statement in statements(policy) if "kms:Decrypt" in actions(statement)]
    assert len(decrypting) == 1
    (decrypt,) = decrypting
    assert decrypt["Principal"] == {"AWS": DECRYPT_ROLE}
    assert actions(decrypt) == {"kms:Decrypt"}
    assert decrypt["Condition"] == {"StringEquals": {"kms:EncryptionContext:purpose": "contact-identifier"}}
    assert not allowed(policy, f"arn:aws:iam::{CUSTODIAN}:root", "kms:Decrypt")


def test_the_purpose_is_the_family_asked_for() -> None:
    """P8: a transcript key opens transcripts for the transcript reader only."""
    reader = f"arn:aws:iam::{ORGANISATION}:role/helpline-prod-TranscriptsFunctionRole-XYZ"
    policy = period_key_policy(
        admin_account=ORGANISATION,
        encrypt_account=ORGANISATION,
        decrypt_role_arn=reader,
        purpose="contact-transcript",
    )
    conditions = [statement.get("Condition") for statement in statements(policy) if "Condition" in statement]
    assert conditions == [{"StringEquals": {"kms:EncryptionContext:purpose": "contact-transcript"}}] * 2
    assert "contact-identifier" not in json.dumps(policy)


def test_the_partition_reaches_every_principal() -> None:
    role = f"arn:aws-cn:iam::{CUSTODIAN}:role/decrypt"
    policy = period_key_policy(
        admin_account=CUSTODIAN,
        encrypt_account=ORGANISATION,
        decrypt_role_arn=role,
        purpose="contact-identifier",
        partition="aws-cn",
    )
    principals = [statement["Principal"]["AWS"] for statement in statements(policy)]
    assert principals == [f"arn:aws-cn:iam::{CUSTODIAN}:root", f"arn:aws-cn:iam::{ORGANISATION}:root", role]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"admin_account": "*"}, "admin_account"),
        ({"admin_account": "11112222333"}, "admin_account"),
        ({"encrypt_account": "4444-5555-6666"}, "encrypt_account"),
        ({"encrypt_account": ""}, "encrypt_account"),
        ({"decrypt_role_arn": "*"}, "decrypt_role_arn"),
        ({"decrypt_role_arn": f"arn:aws:iam::{CUSTODIAN}:root"}, "decrypt_role_arn"),
        ({"decrypt_role_arn": f"arn:aws:iam::{CUSTODIAN}:user/alice"}, "decrypt_role_arn"),
        ({"decrypt_role_arn": f"arn:aws:iam::{CUSTODIAN}:role/*"}, "decrypt_role_arn"),
        ({"decrypt_role_arn": f"arn:aws-cn:iam::{CUSTODIAN}:role/decrypt"}, "decrypt_role_arn"),
        ({"purpose": ""}, "purpose"),
        ({"purpose": "contact-*"}, "purpose"),
        ({"partition": "aws*"}, "partition"),
    ],
)
def test_a_principal_or_purpose_that_could_widen_access_is_refused(
    changes: dict[str, str], named: str
) -> None:
    """A typo must fail loudly, not produce a key anyone (or no one) can use."""
    arguments = {
        "admin_account": CUSTODIAN,
        "encrypt_account": ORGANISATION,
        "decrypt_role_arn": DECRYPT_ROLE,
        "purpose": "contact-identifier",
        **changes,
    }
    with pytest.raises(ValueError, match=named):
        period_key_policy(**arguments)
