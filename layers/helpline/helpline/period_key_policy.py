"""The key policy of a per-period key (P3, P7, P8): who may administer it, encrypt under it, decrypt with it.

Pure: the key steward (`functions/key_steward`) puts this document on every period key it creates, in
the custodian's account for identifier keys and in the organisation's for transcript keys. Three
statements and nothing else, because a key policy is the only thing that decides who can open a
message once it is sealed:

- **Administration** by the administering account (the custodian's, for identifier keys) and none of
  the cryptographic actions. The actions are listed one by one, never `kms:*` or a wildcard, so that a
  new KMS action never silently becomes an administrator's.
- **Encrypt** (`kms:GenerateDataKey`, `kms:Encrypt`) for the encrypting account (the organisation's, for
  identifier keys), only with the family's `purpose` in the encryption context. Ingest seals but can
  never open what it sealed (P2, P3: "in een extern voor ons niet toegankelijk systeem").
- **Decrypt** (`kms:Decrypt`) for exactly one role, by its ARN (the custodian's disclosure decrypt role,
  or the organisation's transcript reader), and only with the same `purpose`.

The account roots are principals so that each account delegates to its own roles with IAM policies;
the decrypt role is named itself so that no IAM policy in its account can widen who decrypts.
"""

from __future__ import annotations

import re
from typing import Any, Final

ADMIN_ACTIONS: Final = (
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
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
)
"""What the administering account may do with a period key: its life cycle (create its alias, disable
it, schedule and cancel its destruction), its description, tags and policy. `kms:PutKeyPolicy` stays with
the key's own account (KMS refuses a policy that locks every principal out of it), which is why that
account must be the custodian's for identifier keys, never the organisation's."""

ENCRYPT_ACTIONS: Final = ("kms:GenerateDataKey", "kms:Encrypt")
DECRYPT_ACTIONS: Final = ("kms:Decrypt",)
PURPOSE_CONDITION_KEY: Final = "kms:EncryptionContext:purpose"

_ACCOUNT: Final = re.compile(r"^\d{12}$")
_PARTITION: Final = re.compile(r"^aws(-[a-z]+)*$")
_ROLE_ARN: Final = re.compile(r"^arn:(aws(-[a-z]+)*):iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")


def period_key_policy(
    *,
    admin_account: str,
    encrypt_account: str,
    decrypt_role_arn: str,
    purpose: str,
    partition: str = "aws",
) -> dict[str, Any]:
    """The key policy document (serialise with `json.dumps`) of a period key of the family `purpose`.

    Raises ValueError, naming the argument, for an account that is not 12 digits, a decrypt principal
    that is not a role ARN in `partition`, or an empty purpose: a policy with a wildcard or a typo in
    a principal must never be created.
    """
    if not _PARTITION.fullmatch(partition):
        raise ValueError("partition must be an AWS partition name")
    for name, account in (("admin_account", admin_account), ("encrypt_account", encrypt_account)):
        if not _ACCOUNT.fullmatch(account):
            raise ValueError(f"{name} must be a 12-digit AWS account id")
    role = _ROLE_ARN.fullmatch(decrypt_role_arn)
    if role is None or role.group(1) != partition:
        raise ValueError("decrypt_role_arn must be an IAM role ARN in the key's partition")
    if not purpose or "*" in purpose or "?" in purpose:
        raise ValueError("purpose must be a non-empty literal")
    with_purpose = {"StringEquals": {PURPOSE_CONDITION_KEY: purpose}}
    return {
        "Version": "2012-10-17",
        "Id": f"helpline-period-key-{purpose}",
        "Statement": [
            {
                "Sid": "AdministrationWithoutCryptography",
                "Effect": "Allow",
                "Principal": {"AWS": _root(partition, admin_account)},
                "Action": list(ADMIN_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "EncryptOnlyWithPurpose",
                "Effect": "Allow",
                "Principal": {"AWS": _root(partition, encrypt_account)},
                "Action": list(ENCRYPT_ACTIONS),
                "Resource": "*",
                "Condition": with_purpose,
            },
            {
                "Sid": "DecryptByOneRoleWithPurpose",
                "Effect": "Allow",
                "Principal": {"AWS": decrypt_role_arn},
                "Action": list(DECRYPT_ACTIONS),
                "Resource": "*",
                "Condition": with_purpose,
            },
        ],
    }


def _root(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:root"
