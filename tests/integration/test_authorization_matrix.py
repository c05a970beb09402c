"""Every staff route for every group, plus no token, an expired token and another pool's token.

The expected table is written out here, not read from `helpline.auth.ROUTE_PERMISSIONS`, so a change
to who may do what has to be made twice, on purpose. Requests go through the local stack's API
gateway (the Cognito authorizer) to the real handlers of template.yaml.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import jwt
import pytest
import requests
from moto.utilities.utils import load_resource

from helpline.auth import ROUTE_PERMISSIONS
from local_stack.stack import LocalStack, LocalStackConfig
from local_stack.template import load_template

GROUPS = ("volunteer", "mentor", "staff", "professional", "compliance", "admin")
BAD_TOKENS = ("no token", "expired token", "other pool's token")
ALLOWED = {
    ("GET", "/lines"): {"staff", "admin"},
    ("PUT", "/lines/{line_id}"): {"admin"},
    ("DELETE", "/lines/{line_id}"): {"admin"},
    ("GET", "/lines/changes"): {"admin"},
    ("POST", "/lines/changes/{change_id}/approve"): {"admin"},
    ("POST", "/lines/changes/{change_id}/reject"): {"admin"},
    ("GET", "/contacts"): {"staff", "mentor"},
    ("GET", "/contacts/{id}"): {"staff", "mentor"},
    ("GET", "/stats"): {"staff"},
    ("POST", "/contacts/{id}/reports"): {"volunteer", "mentor"},
    ("GET", "/contacts/{id}/reports"): {"volunteer", "mentor", "staff"},
    ("GET", "/reports"): {"volunteer", "mentor", "staff"},
    ("GET", "/contacts/{id}/transcript"): {"mentor", "staff"},
    ("POST", "/supervision"): {"mentor", "professional", "volunteer"},
    ("GET", "/supervision"): {"staff"},
    ("POST", "/disclosures"): {"professional"},
    ("GET", "/disclosures"): {"professional", "compliance"},
    ("GET", "/disclosures/{id}"): {"professional", "compliance"},
    ("POST", "/disclosures/{id}/approve"): {"compliance"},
    ("POST", "/disclosures/{id}/reject"): {"compliance"},
    ("GET", "/disclosures/{id}/result"): {"professional"},
    ("GET", "/audit"): {"compliance"},
    ("GET", "/audit/verify"): {"compliance"},
}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    config = LocalStackConfig(api_port=0, outputs_path=None, seed_path=None, stack_name="matrix")
    with LocalStack(config) as running:
        yield running


@pytest.fixture(scope="module")
def tokens(stack: LocalStack) -> dict[str, str | None]:
    users = stack.outputs["DemoUsers"]
    issued: dict[str, str | None] = {
        group: stack.id_token(users[group]["username"], users[group]["password"]) for group in GROUPS
    }
    issued["no token"] = None
    issued["expired token"] = _expired_staff_token(stack)
    issued["other pool's token"] = _other_pool_token(stack)
    return issued


def _expired_staff_token(stack: LocalStack) -> str:
    """A token the pool itself could have issued, signed with its key, one hour past its expiry."""
    private_jwk = load_resource("cognitoidp/resources/jwks-private.json")  # the key moto signs with
    private = jwt.PyJWK(private_jwk["keys"][0] if "keys" in private_jwk else private_jwk).key
    region, pool = stack.config.region, stack.provisioned.user_pool_id
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.{region}.amazonaws.com/{pool}",
        "aud": sorted(stack.provisioned.client_ids)[0],
        "token_use": "id",
        "cognito:username": "demo-staff",
        "cognito:groups": ["staff"],
        "iat": now - 7200,
        "exp": now - 3600,
    }
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": "dummy"})


def _other_pool_token(stack: LocalStack) -> str:
    """A valid, unexpired token with the staff group, from a user pool that is not ours."""
    cognito = stack.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"other-{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=pool, GroupName="staff")
    cognito.admin_create_user(UserPoolId=pool, Username="intruder", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="intruder", Password="Intruder-pass-123", Permanent=True
    )
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="intruder", GroupName="staff")
    result = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "intruder", "PASSWORD": "Intruder-pass-123"},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def test_the_table_covers_every_authorized_route_of_the_template() -> None:
    routes = set()
    default = load_template()["Resources"]["HelplineApi"]["Properties"]["Auth"]["DefaultAuthorizer"]
    for resource in load_template()["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if (
                event["Type"] == "Api"
                and event["Properties"].get("Auth", {}).get("Authorizer", default) != "NONE"
            ):
                routes.add((event["Properties"]["Method"], event["Properties"]["Path"]))
    assert set(ALLOWED) == routes


def test_the_code_grants_what_the_table_says() -> None:
    assert {route: set(groups) for route, groups in ROUTE_PERMISSIONS.items()} == ALLOWED


@pytest.mark.parametrize("caller", GROUPS + BAD_TOKENS)
@pytest.mark.parametrize("route", sorted(ALLOWED))
def test_cell(stack: LocalStack, tokens: dict[str, str | None], route: tuple[str, str], caller: str) -> None:
    method, path = route
    concrete = path.replace("{line_id}", "matrix-line").replace("{id}", uuid.uuid4().hex)
    token = tokens[caller]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = "{}" if method in ("POST", "PUT") else None
    response = requests.request(method, stack.api_url + concrete, headers=headers, data=body, timeout=30)

    if caller in BAD_TOKENS:
        assert response.status_code == 401
    elif caller in ALLOWED[route]:
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 403
        assert response.json()["message"].startswith("Forbidden")
