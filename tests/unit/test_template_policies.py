"""Who may do what with each key, read from what CloudFormation would deploy for BOTH stacks (P2, P3, P7).

The organisation's `template.yaml` and the custodian's `infrastructure/custodian/template.yaml` are run
through the SAM transform and resolved with two different account ids, as they would be deployed in two
accounts. The per-period keys are not template resources (the key stewards create them), so their
policy is the one `helpline.period_key_policy` builds from the steward's environment in the template.

What must hold (issue 8, DESIGN): only the custodian's decrypt role decrypts an identifier, the
organisation only encrypts towards the custodian and never administers its keys; every Decrypt names its
role and its purpose; the pseudonym key MACs only for the ingest roles; nobody gets `kms:*`.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from helpline.period_key_policy import period_key_policy
from local_stack.stack import CUSTODIAN_TEMPLATE_PATH
from local_stack.template import TEMPLATE_PATH, load_template

ORG_ACCOUNT = "444455556666"
CUSTODIAN_ACCOUNT = "111122223333"
ORG_STACK = "helpline-prod"
CUSTODIAN_STACK = "helpline-custodian"
INGEST_ROLES = {
    f"arn:aws:iam::{ORG_ACCOUNT}:role/{ORG_STACK}-ingest-{name}"
    for name in ("twilio", "connect", "connect-events", "chat", "email")
}
CUSTODIAN_DECRYPT_ROLE = f"arn:aws:iam::{CUSTODIAN_ACCOUNT}:role/{CUSTODIAN_STACK}-disclosure-decrypt"
TRANSCRIPT_READER_ROLE = f"arn:aws:iam::{ORG_ACCOUNT}:role/{ORG_STACK}-transcript-reader"
DISCLOSURES_ROLE = f"arn:aws:iam::{ORG_ACCOUNT}:role/{ORG_STACK}-disclosures"
DECISIONS_ROLE = f"arn:aws:iam::{ORG_ACCOUNT}:role/{ORG_STACK}-disclosure-decisions"
STEPS_ROLE = f"arn:aws:iam::{ORG_ACCOUNT}:role/{ORG_STACK}-disclosure-steps"


class _NoManagedPolicyLookups:
    """The transform would ask IAM for managed policy names; the templates use full ARNs only."""

    def load(self) -> dict[str, str]:
        return {}


def _resolve(value: Any, names: dict[str, str]) -> Any:
    """Resolve Ref, GetAtt and Sub against `names`; a resource's Ref or attribute becomes `<Id.Attr>`."""
    if isinstance(value, list):
        return [_resolve(item, names) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return names.get(argument, f"<{argument}>")
        if key == "Fn::GetAtt":
            parts = argument if isinstance(argument, list) else argument.split(".", 1)
            return f"<{parts[0]}.{parts[1]}>"
        if key == "Fn::Sub":
            text, local = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
            local = {k: _resolve(v, names) for k, v in local.items()}

            def replace(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in local:
                    return str(local[name])
                if "." in name:
                    return f"<{name}>"
                return names.get(name, f"<{name}>")

            return re.sub(r"\$\{([^}!]+)\}", replace, text)
    return {key: _resolve(item, names) for key, item in value.items()}


def _deploy(path: Path, account: str, stack: str, parameters: dict[str, str]) -> dict[str, Any]:
    template = copy.deepcopy(load_template(path))
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in props:
                props[key] = "s3://artefacts/" + str(props[key]).strip("/.")
    translated: dict[str, Any] = transform(template, parameters, _NoManagedPolicyLookups())
    names = {
        "AWS::AccountId": account,
        "AWS::StackName": stack,
        "AWS::Region": "eu-west-1",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        **{name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()},
        **parameters,
    }
    resolved: dict[str, Any] = _resolve(translated, names)
    return resolved


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def org(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch_module.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    parameters = {
        "Stage": "prod",
        "CustodianAccountId": CUSTODIAN_ACCOUNT,
        "CustodianStackName": CUSTODIAN_STACK,
    }
    return _deploy(TEMPLATE_PATH, ORG_ACCOUNT, ORG_STACK, parameters)


@pytest.fixture(scope="module")
def custodian(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch_module.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    parameters = {"OrganisationAccountId": ORG_ACCOUNT, "OrganisationStackName": ORG_STACK}
    return _deploy(CUSTODIAN_TEMPLATE_PATH, CUSTODIAN_ACCOUNT, CUSTODIAN_STACK, parameters)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants(statement: dict[str, Any], action: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    patterns = _as_list(statement.get("Action", []))
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in patterns)


def role_statements(deployed: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(logical id, role name, statement) for every inline statement of every IAM role."""
    found = []
    for logical_id, resource in deployed["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        name = str(resource["Properties"].get("RoleName", logical_id))
        for policy in resource["Properties"].get("Policies", []):
            for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                found.append((logical_id, name, statement))
    return found


def key_policies(deployed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]["KeyPolicy"]
        for logical_id, resource in deployed["Resources"].items()
        if resource["Type"] == "AWS::KMS::Key"
    }


def steward_policy(deployed: dict[str, Any], steward: str, family: str, purpose: str) -> dict[str, Any]:
    """The policy the steward gives every period key of its family, from its environment in the template."""
    env = deployed["Resources"][steward]["Properties"]["Environment"]["Variables"]
    return period_key_policy(
        admin_account=env["KEY_ADMIN_ACCOUNT"],
        encrypt_account=env[f"{family}_KEY_ENCRYPT_ACCOUNT"],
        decrypt_role_arn=env[f"{family}_KEY_DECRYPT_ROLE_ARN"],
        purpose=purpose,
    )


@pytest.fixture(scope="module")
def identifier_key_policy(custodian: dict[str, Any]) -> dict[str, Any]:
    return steward_policy(custodian, "IdentifierKeyStewardFunction", "IDENTIFIER", "contact-identifier")


@pytest.fixture(scope="module")
def transcript_key_policy(org: dict[str, Any]) -> dict[str, Any]:
    return steward_policy(org, "TranscriptKeyStewardFunction", "TRANSCRIPT", "contact-transcript")


def who_may(policy: dict[str, Any], action: str) -> list[tuple[Any, Any]]:
    """(principal, condition) of every statement of a key policy that allows `action`."""
    return [
        (statement["Principal"]["AWS"], statement.get("Condition", {}))
        for statement in policy["Statement"]
        if grants(statement, action)
    ]


def purpose_of(condition: dict[str, Any]) -> str | None:
    value = condition.get("StringEquals", {}).get("kms:EncryptionContext:purpose")
    return str(value) if value is not None else None


# ---------------------------------------------------------------- nobody gets everything


def test_the_checker_would_catch_a_wildcard_grant() -> None:
    assert grants({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}, "kms:Decrypt")
    assert grants({"Effect": "Allow", "Action": ["KMS:Decrypt*"], "Resource": "*"}, "kms:Decrypt")
    assert not grants({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}, "kms:Decrypt")


@pytest.mark.parametrize("stack", ["org", "custodian"])
def test_no_kms_star_in_any_role_or_key_policy_of_either_stack(
    stack: str, request: pytest.FixtureRequest, identifier_key_policy: Any, transcript_key_policy: Any
) -> None:
    deployed = request.getfixturevalue(stack)
    statements = [s for _, _, s in role_statements(deployed)]
    statements += [s for policy in key_policies(deployed).values() for s in policy["Statement"]]
    statements += identifier_key_policy["Statement"] + transcript_key_policy["Statement"]
    for statement in statements:
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        assert "*" not in actions, statement.get("Sid")
        assert "kms:*" not in actions, statement.get("Sid")


# ---------------------------------------------------------------- identifier keys (custodian)


def test_only_the_custodians_decrypt_role_may_decrypt_an_identifier(identifier_key_policy: Any) -> None:
    decrypting = who_may(identifier_key_policy, "kms:Decrypt")
    assert [(principal, purpose_of(condition)) for principal, condition in decrypting] == [
        (CUSTODIAN_DECRYPT_ROLE, "contact-identifier")
    ]


def test_the_organisation_may_only_generate_data_keys_for_identifiers(identifier_key_policy: Any) -> None:
    org_root = f"arn:aws:iam::{ORG_ACCOUNT}:root"
    for action in ("kms:GenerateDataKey", "kms:Encrypt"):
        assert [(p, purpose_of(c)) for p, c in who_may(identifier_key_policy, action)] == [
            (org_root, "contact-identifier")
        ]
    for statement in identifier_key_policy["Statement"]:
        if org_root in _as_list(statement["Principal"]["AWS"]):
            assert set(statement["Action"]) == {"kms:GenerateDataKey", "kms:Encrypt"}


def test_identifier_keys_are_administered_by_the_custodian_never_the_organisation(
    identifier_key_policy: Any,
) -> None:
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:EnableKey"):
        assert [p for p, _ in who_may(identifier_key_policy, action)] == [
            f"arn:aws:iam::{CUSTODIAN_ACCOUNT}:root"
        ], action


def test_the_custodians_decrypt_role_is_the_one_the_key_policy_names(custodian: dict[str, Any]) -> None:
    role = custodian["Resources"]["DisclosureDecryptRole"]["Properties"]
    assert f"arn:aws:iam::{CUSTODIAN_ACCOUNT}:role/{role['RoleName']}" == CUSTODIAN_DECRYPT_ROLE
    function = custodian["Resources"]["DisclosureDecryptFunction"]["Properties"]
    assert function["Role"] == "<DisclosureDecryptRole.Arn>"
    users = [
        logical_id
        for logical_id, resource in custodian["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Role") == "<DisclosureDecryptRole.Arn>"
    ]
    assert users == ["DisclosureDecryptFunction"]


def test_the_decrypt_roles_iam_decrypt_is_bound_to_identifier_keys_and_their_purpose(
    custodian: dict[str, Any],
) -> None:
    decrypting = [(name, s) for _, name, s in role_statements(custodian) if grants(s, "kms:Decrypt")]
    assert [name for name, _ in decrypting] == [f"{CUSTODIAN_STACK}-disclosure-decrypt"]
    condition = decrypting[0][1]["Condition"]["StringEquals"]
    assert condition == {
        "kms:EncryptionContext:purpose": "contact-identifier",
        "aws:ResourceTag/helpline:family": "identifiers",
    }


def test_no_organisation_role_may_decrypt_an_identifier(org: dict[str, Any]) -> None:
    for _, name, statement in role_statements(org):
        if not grants(statement, "kms:Decrypt"):
            continue
        resources = json.dumps(_as_list(statement.get("Resource", [])))
        assert CUSTODIAN_ACCOUNT not in resources, name
        assert '"*"' not in resources, name
        assert purpose_of(statement.get("Condition", {})) != "contact-identifier", name


def test_ingest_encrypts_identifiers_only_under_the_custodians_period_aliases(org: dict[str, Any]) -> None:
    encrypting = [
        (name, s)
        for _, name, s in role_statements(org)
        if grants(s, "kms:GenerateDataKey") and CUSTODIAN_ACCOUNT in json.dumps(s.get("Resource"))
    ]
    assert {name for name, _ in encrypting} == {
        f"{ORG_STACK}-ingest-{n}" for n in ("twilio", "connect", "chat", "email")
    }
    for name, statement in encrypting:
        assert statement["Action"] == ["kms:GenerateDataKey"], name
        assert purpose_of(statement["Condition"]) == "contact-identifier", name
        alias = statement["Condition"]["StringLike"]["kms:RequestAlias"]
        assert alias == f"alias/{CUSTODIAN_STACK}/identifiers/*", name


def test_only_the_organisations_workflow_role_may_invoke_the_custodian(custodian: dict[str, Any]) -> None:
    every = [
        resource["Properties"]
        for resource in custodian["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Permission"
    ]
    assert all(p["Principal"] != "*" for p in every)
    # Besides AWS's own services (API Gateway, EventBridge schedules), only the organisation's workflow.
    permissions = [p for p in every if not str(p["Principal"]).endswith(".amazonaws.com")]
    assert {p["FunctionName"] for p in permissions} == {
        "<ReleaseIntakeFunction.Arn>",
        "<DisclosureDecryptFunction.Arn>",
    }
    workflow_role = f"arn:aws:iam::{ORG_ACCOUNT}:role/{ORG_STACK}-disclosure-workflow"
    assert {p["Principal"] for p in permissions} == {workflow_role}


# ---------------------------------------------------------------- transcript keys (organisation)


def test_only_the_transcript_reader_may_decrypt_a_transcript(transcript_key_policy: Any) -> None:
    decrypting = who_may(transcript_key_policy, "kms:Decrypt")
    assert [(p, purpose_of(c)) for p, c in decrypting] == [(TRANSCRIPT_READER_ROLE, "contact-transcript")]


def test_the_transcript_reader_role_is_named_as_the_key_policy_names_it(org: dict[str, Any]) -> None:
    decrypting = {name for _, name, s in role_statements(org) if grants(s, "kms:Decrypt")}
    assert f"{ORG_STACK}-transcript-reader" in decrypting
    reader = org["Resources"]["TranscriptsFunction"]["Properties"]
    assert reader["Role"] == "<TranscriptReaderRole.Arn>"


def test_transcripts_are_encrypted_by_the_organisation_with_their_purpose_only(
    transcript_key_policy: Any,
) -> None:
    assert [(p, purpose_of(c)) for p, c in who_may(transcript_key_policy, "kms:GenerateDataKey")] == [
        (f"arn:aws:iam::{ORG_ACCOUNT}:root", "contact-transcript")
    ]


# ---------------------------------------------------------------- the organisation's own keys


def test_the_pseudonym_key_macs_only_for_the_ingest_roles(org: dict[str, Any]) -> None:
    policy = key_policies(org)["PseudonymKey"]
    macs = [s for s in policy["Statement"] if grants(s, "kms:GenerateMac")]
    assert len(macs) == 1
    assert set(macs[0]["Condition"]["ArnEquals"]["aws:PrincipalArn"]) == INGEST_ROLES
    for statement in policy["Statement"]:
        assert not grants(statement, "kms:Decrypt")
        assert not grants(statement, "kms:Encrypt")
    role_names = {
        f"arn:aws:iam::{ORG_ACCOUNT}:role/{resource['Properties']['RoleName']}"
        for resource in org["Resources"].values()
        if resource["Type"] == "AWS::IAM::Role" and "RoleName" in resource["Properties"]
    }
    assert role_names >= INGEST_ROLES, "every role the key policy names exists in the template"


def test_every_decrypt_of_the_disclosure_key_names_its_role_and_purpose(org: dict[str, Any]) -> None:
    policy = key_policies(org)["DisclosureKey"]
    assert sorted((p, purpose_of(c)) for p, c in who_may(policy, "kms:Decrypt")) == [
        (DECISIONS_ROLE, "workflow-token"),
        (DISCLOSURES_ROLE, "disclosure-result"),
    ]
    assert sorted((p, purpose_of(c)) for p, c in who_may(policy, "kms:Encrypt")) == [
        (CUSTODIAN_DECRYPT_ROLE, "disclosure-result"),
        (STEPS_ROLE, "workflow-token"),
    ]


@pytest.mark.parametrize("key", ["PseudonymKey", "DisclosureKey"])
def test_administration_of_the_organisations_keys_holds_no_cryptography(
    org: dict[str, Any], key: str
) -> None:
    policy = key_policies(org)[key]
    root = f"arn:aws:iam::{ORG_ACCOUNT}:root"
    for statement in policy["Statement"]:
        if statement["Principal"]["AWS"] == root and "Condition" not in statement:
            for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateMac"):
                assert not grants(statement, action), (key, action)


def test_the_custodian_may_only_put_a_result_and_read_a_ciphertext_at_the_organisation(
    org: dict[str, Any],
) -> None:
    contacts = org["Resources"]["ContactsTable"]["Properties"]["ResourcePolicy"]["PolicyDocument"]
    disclosures = org["Resources"]["DisclosureResultsTable"]["Properties"]["ResourcePolicy"]["PolicyDocument"]
    for document, action in ((contacts, "dynamodb:GetItem"), (disclosures, "dynamodb:PutItem")):
        (statement,) = document["Statement"]
        assert statement["Principal"]["AWS"] == CUSTODIAN_DECRYPT_ROLE
        assert statement["Action"] == action
    readable = contacts["Statement"][0]["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"]
    assert set(readable) == {"id", "identifier_ciphertext", "identifier_retain_until"}
    assert "ResourcePolicy" not in org["Resources"]["DisclosuresTable"]["Properties"], "requests stay ours"


def test_a_released_result_is_never_in_a_backup(org: dict[str, Any]) -> None:
    """P7: a result lives 24 hours; a point-in-time backup would keep it sealed for 35 days."""
    results = org["Resources"]["DisclosureResultsTable"]["Properties"]
    assert results["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert results["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


# ---------------------------------------------------------------- no single insider (issue 9)


@pytest.mark.parametrize(
    ("stack", "pool", "client"),
    [
        ("org", "UserPool", "UserPoolClient"),
        ("custodian", "CustodianUserPool", "CustodianUserPoolClient"),
    ],
)
def test_privileged_sign_in_is_strong_when_deployed(
    stack: str, pool: str, client: str, request: pytest.FixtureRequest
) -> None:
    """TOTP for every user (professionals, compliance, admins, custodian officers among them), SRP
    only, and threat protection enforced. The local demo pool differs only through its LocalStack
    metadata, which CloudFormation ignores."""
    deployed = request.getfixturevalue(stack)
    pool_props = deployed["Resources"][pool]["Properties"]
    assert pool_props["MfaConfiguration"] == "ON"
    assert pool_props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool_props["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert pool_props["UserPoolTier"] == "PLUS", "threat protection needs the Plus tier"
    flows = deployed["Resources"][client]["Properties"]["ExplicitAuthFlows"]
    assert "ALLOW_USER_PASSWORD_AUTH" not in flows
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" not in flows
    assert "ALLOW_USER_SRP_AUTH" in flows


def test_only_the_decisions_role_may_resume_the_disclosure_workflow(org: dict[str, Any]) -> None:
    """P7: whoever can send task success can approve a disclosure; only compliance's function may."""
    for action in ("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"):
        sending = {name for _, name, s in role_statements(org) if grants(s, action)}
        expected = set() if action == "states:SendTaskHeartbeat" else {f"{ORG_STACK}-disclosure-decisions"}
        assert sending == expected, action
    decisions = org["Resources"]["DisclosureDecisionsFunction"]["Properties"]
    assert decisions["Role"] == "<DisclosureDecisionsRole.Arn>"


@pytest.mark.parametrize("stack", ["org", "custodian"])
def test_no_role_of_the_application_reads_execution_history(
    stack: str, request: pytest.FixtureRequest
) -> None:
    """The history holds the waiting task token (Step Functions records a task's parameters)."""
    deployed = request.getfixturevalue(stack)
    for _, name, statement in role_statements(deployed):
        for action in ("states:GetExecutionHistory", "states:DescribeExecution"):
            assert not grants(statement, action), (name, action)


def test_the_audit_anchor_is_write_once_and_signed_only_by_the_checkpoint_role(
    custodian: dict[str, Any],
) -> None:
    """P7: a deleted or rewritten audit entry is caught against checkpoints the organisation cannot
    rewrite: Object Lock in compliance mode, deletes denied to the organisation, one role that signs."""
    bucket = custodian["Resources"]["AuditCheckpointBucket"]["Properties"]
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    policy = custodian["Resources"]["AuditCheckpointBucketPolicy"]["Properties"]["PolicyDocument"]
    denied = [s for s in policy["Statement"] if s["Effect"] == "Deny" and "Condition" not in s]
    assert [s["Principal"]["AWS"] for s in denied] == [f"arn:aws:iam::{ORG_ACCOUNT}:root"]
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"):
        assert action in denied[0]["Action"]
    allowed = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert not any(grants(s, "s3:DeleteObject") or grants(s, "s3:DeleteObjectVersion") for s in allowed)
    key = key_policies(custodian)["AuditSigningKey"]
    assert [p for p, _ in who_may(key, "kms:Sign")] == [
        f"arn:aws:iam::{ORG_ACCOUNT}:role/{ORG_STACK}-audit-checkpoint"
    ]


def test_only_the_disclosures_role_reads_and_takes_a_result_and_it_may_do_nothing_else_there(
    org: dict[str, Any],
) -> None:
    """P7: the result is read and opened before it is taken (a failed open keeps it), so the role that
    delivers it needs GetItem beside DeleteItem; no other role of ours touches the results at all."""
    touching = {
        logical_id: sorted(str(action) for action in _as_list(statement["Action"]))
        for logical_id, _, statement in role_statements(org)
        if "DisclosureResultsTable" in json.dumps(statement.get("Resource"))
    }
    assert touching == {"DisclosuresRole": ["dynamodb:DeleteItem", "dynamodb:GetItem"]}
