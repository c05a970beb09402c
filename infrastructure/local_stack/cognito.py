"""Verify Cognito ID tokens the way API Gateway's Cognito user pool authorizer does.

Signature against the user pool's published keys (JWKS), issuer = the pool, audience = one of the pool's
app clients, `token_use` = `id`, not expired. A token from another pool fails on its issuer even where
the stand-in signs every pool with the same key.
"""

from __future__ import annotations

from typing import Any

import jwt


class CognitoAuthorizer:
    def __init__(self, jwks: dict[str, Any], issuer: str, client_ids: set[str]) -> None:
        self._keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys}
        self._issuer = issuer
        self._client_ids = client_ids

    def claims_for(self, authorization: str | None) -> dict[str, str] | None:
        """The token's claims as API Gateway passes them on, or None when it must answer 401."""
        if not authorization:
            return None
        token = authorization.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(str(kid))
            if key is None:
                return None
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                options={"require": ["exp", "iss", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError:
            return None
        # Cognito issues one client id as `aud` and numeric times: anything else is not its ID token
        # (and a list as `aud` must be a 401, not an error of ours).
        audience, expiry = claims.get("aud"), claims.get("exp")
        if (
            claims.get("token_use") != "id"
            or not isinstance(audience, str)
            or audience not in self._client_ids
        ):
            return None
        if isinstance(expiry, bool) or not isinstance(expiry, int | float):
            return None
        return {name: _as_api_gateway_string(value) for name, value in claims.items()}


def _as_api_gateway_string(value: Any) -> str:
    """API Gateway hands REST handlers every claim as a string; lists (groups) comma-joined."""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)
