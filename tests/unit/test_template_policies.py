"""Least privilege, read from what CloudFormation would deploy (template.yaml after the SAM transform).

P7 and DESIGN: only the disclosure decrypt function may decrypt identifiers. Ingest may encrypt, never
decrypt. No role anywhere may do everything.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from local_stack.template import load_template

DECRYPT_ROLE = "DisclosureDecryptRole"
IDENTIFIER_KEY = "IdentifierKey"


class _NoManagedPolicyLookups:
    """The transform would ask IAM for managed policy names; the template uses full ARNs only."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def deployed(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Any]:
    """The CloudFormation template SAM would deploy, with artefact paths as `sam package` sets them."""
    monkeypatch_module.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    template = copy.deepcopy(load_template())
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in props:
                props[key] = "s3://artefacts/" + str(props[key]).strip("/")
    result: dict[str, Any] = transform(template, {"Stage": "dev"}, _NoManagedPolicyLookups())
    return result


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(deployed: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every inline statement of every IAM role, with the role's logical id."""
    found = []
    for logical_id, resource in deployed["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                found.append((logical_id, statement))
    return found


def grants(statement: dict[str, Any], action: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    patterns = _as_list(statement.get("Action", []))
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in patterns)


def may_touch_identifier_key(statement: dict[str, Any]) -> bool:
    resources = json.dumps(_as_list(statement.get("Resource", [])))
    return '"*"' in resources or IDENTIFIER_KEY in resources or ":key/" in resources


def test_only_the_disclosure_decrypt_role_may_decrypt_identifiers(deployed: dict[str, Any]) -> None:
    decrypting_roles = {
        role
        for role, statement in role_statements(deployed)
        if grants(statement, "kms:Decrypt") and may_touch_identifier_key(statement)
    }
    assert decrypting_roles == {DECRYPT_ROLE}


def test_the_statement_checker_would_catch_a_wildcard_grant() -> None:
    assert grants({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}, "kms:Decrypt")
    assert grants({"Effect": "Allow", "Action": ["KMS:Decrypt*"], "Resource": "*"}, "kms:Decrypt")
    assert not grants({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}, "kms:Decrypt")
    assert may_touch_identifier_key({"Resource": {"Fn::GetAtt": ["IdentifierKey", "Arn"]}})


def test_no_role_may_do_everything(deployed: dict[str, Any]) -> None:
    for role, statement in role_statements(deployed):
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        assert "*" not in actions, f"{role} allows every action"
    for logical_id, resource in deployed["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            managed = json.dumps(resource["Properties"].get("ManagedPolicyArns", []))
            assert "AdministratorAccess" not in managed, logical_id
            assert "PowerUserAccess" not in managed, logical_id


def test_the_identifier_key_policy_lets_only_the_decrypt_role_decrypt(
    deployed: dict[str, Any],
) -> None:
    policy = deployed["Resources"][IDENTIFIER_KEY]["Properties"]["KeyPolicy"]
    decrypting = [s for s in policy["Statement"] if grants(s, "kms:Decrypt")]
    assert len(decrypting) == 1
    condition = json.dumps(decrypting[0]["Condition"])
    assert "aws:PrincipalArn" in condition
    assert "-disclosure-decrypt" in condition
    assert "kms:EncryptionContext:purpose" in condition, "decryption is bound to the identifier context"
    assert not any(grants(s, "kms:*") for s in policy["Statement"]), "no blanket kms:* on this key"


def test_the_decrypt_role_is_the_one_the_key_policy_names(deployed: dict[str, Any]) -> None:
    role_name = json.dumps(deployed["Resources"][DECRYPT_ROLE]["Properties"]["RoleName"])
    assert "-disclosure-decrypt" in role_name


def test_the_disclosure_decrypt_function_runs_as_the_decrypt_role(deployed: dict[str, Any]) -> None:
    function = deployed["Resources"]["DisclosureDecryptFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": [DECRYPT_ROLE, "Arn"]}
    assert "-disclosure-decrypt" in json.dumps(function["FunctionName"])
    users_of_the_role = [
        logical_id
        for logical_id, resource in deployed["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Role") == {"Fn::GetAtt": [DECRYPT_ROLE, "Arn"]}
    ]
    assert users_of_the_role == ["DisclosureDecryptFunction"]
