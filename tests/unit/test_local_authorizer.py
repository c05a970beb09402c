"""The local stack's Cognito authorizer answers 401 (None), never an error, to a token that is not one
of the pool's ID tokens: an `aud` that is a list, an `exp` that is not a number (issue 10)."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local_stack.cognito import CognitoAuthorizer

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_local"
CLIENT = "local-client"
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def authorizer() -> CognitoAuthorizer:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PRIVATE.public_key()))
    jwks = {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}
    return CognitoAuthorizer(jwks, issuer=ISSUER, client_ids={CLIENT})


def token(**overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "cognito:username": "demo-staff",
        "cognito:groups": ["staff"],
        "iat": now,
        "exp": now + 600,
        **overrides,
    }
    return jwt.encode(claims, PRIVATE, algorithm="RS256", headers={"kid": "k1"})


def test_a_pool_id_token_gives_its_claims_as_api_gateway_passes_them(authorizer: CognitoAuthorizer) -> None:
    claims = authorizer.claims_for(f"Bearer {token()}")
    assert claims is not None
    assert claims["cognito:username"] == "demo-staff"
    assert claims["cognito:groups"] == "staff"


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": [CLIENT]},
        {"aud": [CLIENT, "other"]},
        {"aud": "other-client"},
        {"exp": str(int(time.time()) + 600)},
        {"exp": True},
        {"token_use": "access"},
        {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other"},
        {"exp": int(time.time()) - 10},
    ],
)
def test_anything_else_is_a_401_not_an_error(
    authorizer: CognitoAuthorizer, overrides: dict[str, Any]
) -> None:
    assert authorizer.claims_for(token(**overrides)) is None
