"""`/console` on the local stack: the built console (`console/dist`, `make console`), its `config.json`
from the running stack, and a narrow proxy to the stand-in's Cognito, so that the browser only ever
talks to the API's own origin (the page's `connect-src 'self'`).

- `GET /console` redirects to `/console/`; `GET /console/` is `index.html`, `GET /console/<file>` a file
  of `console/dist` (nothing outside it: 404). Without `console/dist/index.html`: 503, "run make console".
- `GET /console/config.json`: where the console finds its API and user pool. `apiUrl` is the origin the
  request came in on (the gateway's base URL when the console is opened at `ApiUrl`/console/), so a page
  opened at `localhost` rather than `127.0.0.1` still talks to its own origin.
- `POST /console/cognito/`: the body and the `X-Amz-Target` and `Content-Type` headers go to the
  stand-in's cognito-idp endpoint, for the few operations a signed-in person needs; nothing else passes.
- Every answer carries the security headers the deployed console gets from CloudFront
  (`template.yaml`, `ConsoleSecurityHeaders`), with `connect-src 'self'`: locally, Cognito is reached
  through this origin. `index.html`, `config.json` and Cognito's answers are never stored by the
  browser; the hashed files under `assets/` are cached for a year.

Nothing is logged here beyond the gateway's one line per request (method, path, status, time).
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import requests
from werkzeug.wrappers import Request, Response

from local_stack.template import REPO_ROOT

DIST_PATH: Final = REPO_ROOT / "console" / "dist"
PREFIX: Final = "/console"
CONFIG_PATH: Final = "/console/config.json"
COGNITO_PATHS: Final = frozenset({"/console/cognito/", "/console/cognito"})
ASSETS_PREFIX: Final = "/console/assets/"
NOT_BUILT_MESSAGE: Final = "console not built: run make console"

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NO_STORE: Final = "no-store"
IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"

COGNITO_TARGETS: Final = frozenset(
    f"AWSCognitoIdentityProviderService.{operation}"
    for operation in (
        "InitiateAuth",
        "RespondToAuthChallenge",
        "GetUser",
        "GlobalSignOut",
        "RevokeToken",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "GetTokensFromRefreshToken",
    )
)
REVOKE_TOKEN: Final = "AWSCognitoIdentityProviderService.RevokeToken"  # noqa: S105 - an operation name
MAX_COGNITO_BODY: Final = 64 * 1024
"""Far above any sign-in request (an SRP challenge answer is a few KiB)."""
COGNITO_ANSWER_HEADERS: Final = ("x-amzn-ErrorType", "x-amzn-RequestId")
"""Besides Content-Type: what the SDKs read to tell one Cognito error from another."""

# What the browser must be told exactly (mimetypes differs between systems, and knows no .map).
CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
}

Audience = Literal["organisation", "custodian"]
CognitoAnswer = tuple[int, bytes, dict[str, str]]
Transport = Callable[[str, bytes, str], CognitoAnswer]
"""(X-Amz-Target, body, Content-Type) -> (status, body, headers) of the stand-in's cognito-idp."""


@dataclass(frozen=True)
class ConsoleSettings:
    """What one gateway's console needs to know of the running stack."""

    region: str
    user_pool_id: str
    user_pool_client_id: str
    audience: Audience
    aws_endpoint: str
    """The stand-in (moto's server), where cognito-idp answers."""


def serves(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def content_type_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def _json(status: int, body: object, cache: str = NO_STORE) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json")
    response.headers["Cache-Control"] = cache
    return response


def _message(status: int, message: str) -> Response:
    return _json(status, {"message": message})


class ConsoleSite:
    """The console's routes on one local gateway (the organisation's, or the custodian's)."""

    def __init__(
        self,
        settings: ConsoleSettings,
        dist: Path = DIST_PATH,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self._dist = dist
        self._transport = transport or self._post_to_stand_in

    def respond(self, request: Request) -> Response:
        response = self._answer(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        response.headers.setdefault("Cache-Control", NO_STORE)
        return response

    # ------------------------------------------------------------------ routes
    def _answer(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path in COGNITO_PATHS:
            if method != "POST":
                return self._not_allowed("POST")
            return self._cognito(request)
        if method not in ("GET", "HEAD"):
            return self._not_allowed("GET, HEAD")
        if path == PREFIX:  # relative asset links resolve against /console/
            query = request.query_string.decode("latin-1")
            location = f"{PREFIX}/" + (f"?{query}" if query else "")
            return Response(status=301, headers={"Location": location, "Cache-Control": NO_STORE})
        if path == CONFIG_PATH:
            return self._config(request)
        return self._file(path)

    @staticmethod
    def _not_allowed(allowed: str) -> Response:
        response = _message(405, "Method Not Allowed")
        response.headers["Allow"] = allowed
        return response

    def _config(self, request: Request) -> Response:
        base = request.host_url.rstrip("/")
        settings = self.settings
        return _json(
            200,
            {
                "apiUrl": base,
                "region": settings.region,
                "userPoolId": settings.user_pool_id,
                "userPoolClientId": settings.user_pool_client_id,
                "cognitoEndpoint": f"{base}/console/cognito/",
                "authFlow": "USER_PASSWORD_AUTH",
                "audience": settings.audience,
            },
        )

    def _file(self, path: str) -> Response:
        root = self._dist.resolve()
        if not (root / "index.html").is_file():
            return _message(503, NOT_BUILT_MESSAGE)
        name = path.removeprefix(PREFIX + "/") or "index.html"
        parts = name.split("/")
        # No way out of dist and nothing hidden: `..`, empty or dot segments, backslashes, NUL.
        if "\\" in name or "\x00" in name or any(part == "" or part.startswith(".") for part in parts):
            return _message(404, "Not Found")
        target = (root / name).resolve()
        if root not in target.parents or not target.is_file():
            return _message(404, "Not Found")
        if path.startswith(ASSETS_PREFIX):
            cache = IMMUTABLE  # Vite names them by content hash: a new build, a new name
        elif target.name == "index.html":
            cache = NO_STORE  # it names the current assets: always the newest
        else:
            cache = REVALIDATE
        response = Response(target.read_bytes(), content_type=content_type_of(target.name))
        response.headers["Cache-Control"] = cache
        return response

    # ------------------------------------------------------------------ Cognito
    def _cognito(self, request: Request) -> Response:
        target = request.headers.get("X-Amz-Target", "")
        if target not in COGNITO_TARGETS:
            return _message(400, "X-Amz-Target not allowed")
        length = request.content_length
        if length is None:
            return _message(411, "Length Required")
        if length > MAX_COGNITO_BODY:
            return _message(413, "Request Entity Too Large")
        content_type = request.headers.get("Content-Type") or "application/x-amz-json-1.1"
        if target == REVOKE_TOKEN:
            # moto does not implement RevokeToken (a 500); the stand-in's refresh tokens die with it
            # anyway. Answered as Cognito does, so signing out in the console shows no failed request.
            return Response("{}", status=200, content_type="application/x-amz-json-1.1")
        try:
            status, body, headers = self._transport(target, request.get_data(), content_type)
        except requests.RequestException:
            return _message(502, "Cognito stand-in unreachable")
        response = Response(body, status=status)
        response.headers["Content-Type"] = headers.get("Content-Type", "application/x-amz-json-1.1")
        for name in COGNITO_ANSWER_HEADERS:
            if name in headers:
                response.headers[name] = headers[name]
        response.headers["Cache-Control"] = NO_STORE  # tokens
        return response

    def _post_to_stand_in(self, target: str, body: bytes, content_type: str) -> CognitoAnswer:
        answer = requests.post(
            f"{self.settings.aws_endpoint}/",
            data=body,
            headers={
                "X-Amz-Target": target,
                "Content-Type": content_type,
                # The stand-in tells services (and regions) apart by host, as AWS does.
                "Host": f"cognito-idp.{self.settings.region}.amazonaws.com",
            },
            timeout=30,
        )
        headers = {
            name: answer.headers[name]
            for name in ("Content-Type", *COGNITO_ANSWER_HEADERS)
            if name in answer.headers
        }
        return answer.status_code, answer.content, headers
