"""The two templates as CloudFormation would deploy them (SAM transformed, names resolved), for the
template tests: each test module asks for `stacks`, which is built once per session."""

from __future__ import annotations

from typing import Any

import pytest
from test_template_policies import CUSTODIAN_ACCOUNT, CUSTODIAN_STACK, ORG_ACCOUNT, ORG_STACK, _deploy

from local_stack.stack import CUSTODIAN_TEMPLATE_PATH
from local_stack.template import TEMPLATE_PATH


@pytest.fixture(scope="session")
def stacks() -> dict[str, dict[str, Any]]:
    """`org` (stage prod) and `custodian`, linked by the same account ids and stack names."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        org = _deploy(
            TEMPLATE_PATH,
            ORG_ACCOUNT,
            ORG_STACK,
            {"Stage": "prod", "CustodianAccountId": CUSTODIAN_ACCOUNT, "CustodianStackName": CUSTODIAN_STACK},
        )
        custodian = _deploy(
            CUSTODIAN_TEMPLATE_PATH,
            CUSTODIAN_ACCOUNT,
            CUSTODIAN_STACK,
            {"OrganisationAccountId": ORG_ACCOUNT, "OrganisationStackName": ORG_STACK},
        )
    return {"org": org, "custodian": custodian}


@pytest.fixture(scope="session")
def org(stacks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The organisation's stack of `stacks`."""
    return stacks["org"]


@pytest.fixture(scope="session")
def custodian(stacks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The custodian's stack of `stacks`."""
    return stacks["custodian"]
