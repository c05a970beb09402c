"""The console on the local gateways (issue 12, `local_stack.console`): files of a built `console/dist`
and nothing outside it, `config.json` from the running stack, a Cognito proxy that lets only sign-in
operations through, and the security headers on every answer. Through the gateway's WSGI app, with a
temporary dist directory and a fake Cognito; no browser, no stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from werkzeug.test import Client, TestResponse

from local_stack.console import (
    COGNITO_TARGETS,
    CONTENT_SECURITY_POLICY,
    REVOKE_TOKEN,
    SECURITY_HEADERS,
    ConsoleSettings,
    ConsoleSite,
    Transport,
)
from local_stack.gateway import LocalApiGateway
from local_stack.lambdas import LambdaRuntime

BASE = "http://127.0.0.1:3000"
SETTINGS = ConsoleSettings(
    region="eu-west-1",
    user_pool_id="eu-west-1_org",
    user_pool_client_id="org-client",
    audience="organisation",
    aws_endpoint="http://127.0.0.1:9",
)
INDEX = b'<!doctype html><script type="module" src="./assets/index-3f2a1b.js"></script>'


class FakeCognito:
    def __init__(self, answer: tuple[int, bytes, dict[str, str]] | None = None) -> None:
        self.calls: list[tuple[str, bytes, str]] = []
        self.answer = answer or (
            200,
            b'{"AuthenticationResult": {}}',
            {"Content-Type": "application/x-amz-json-1.1"},
        )

    def __call__(self, target: str, body: bytes, content_type: str) -> tuple[int, bytes, dict[str, str]]:
        self.calls.append((target, body, content_type))
        return self.answer


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "index-3f2a1b.js").write_text("export {};\n")
    (root / "assets" / "index-9c8d7e.css").write_text("body{}\n")
    (root / "assets" / "logo-1a2b3c.svg").write_text("<svg/>")
    (root / "assets" / "inter-4d5e6f.woff2").write_bytes(b"wOF2")
    (root / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (root / ".env").write_text("SECRET=1\n")
    (tmp_path / "outside.txt").write_text("not the console's\n")
    return root


@pytest.fixture
def cognito() -> FakeCognito:
    return FakeCognito()


def client_for(site: ConsoleSite) -> Client:
    gateway = LocalApiGateway([], LambdaRuntime(), authorizer=None, stage="local", console=site)
    return Client(gateway)


@pytest.fixture
def client(dist: Path, cognito: FakeCognito) -> Client:
    return client_for(ConsoleSite(SETTINGS, dist=dist, transport=cognito))


def get(client: Client, path: str) -> TestResponse:
    return client.get(path, base_url=BASE)


def assert_security_headers(response: TestResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


# ---------------------------------------------------------------- files
def test_console_without_slash_redirects_to_the_directory(client: Client) -> None:
    response = get(client, "/console")
    assert response.status_code == 301
    assert response.headers["Location"] == "/console/"
    assert_security_headers(response)


def test_the_directory_is_index_html_never_stored(client: Client) -> None:
    response = get(client, "/console/")
    assert response.status_code == 200
    assert response.data == INDEX
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert_security_headers(response)
    assert get(client, "/console/index.html").data == INDEX


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/console/assets/index-3f2a1b.js", "text/javascript; charset=utf-8"),
        ("/console/assets/index-9c8d7e.css", "text/css; charset=utf-8"),
        ("/console/assets/logo-1a2b3c.svg", "image/svg+xml"),
        ("/console/assets/inter-4d5e6f.woff2", "font/woff2"),
    ],
)
def test_hashed_assets_have_their_type_and_are_cached_for_good(
    client: Client, path: str, content_type: str
) -> None:
    response = get(client, path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert_security_headers(response)


def test_other_files_are_revalidated(client: Client) -> None:
    response = get(client, "/console/favicon.ico")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"


def test_head_answers_like_get_without_a_body(client: Client) -> None:
    response = client.head("/console/", base_url=BASE)
    assert response.status_code == 200
    assert response.data == b""
    assert_security_headers(response)


@pytest.mark.parametrize(
    "path",
    [
        "/console/../outside.txt",
        "/console/assets/../../outside.txt",
        "/console/%2e%2e/outside.txt",
        "/console/..%2foutside.txt",
        "/console/assets/..%5c..%5coutside.txt",
        "/console/.env",
        "/console/assets/",
        "/console//etc/passwd",
        "/console/%00index.html",
        "/console/missing.js",
        "/console/assets",
    ],
)
def test_nothing_outside_dist_or_hidden_is_served(client: Client, path: str) -> None:
    response = get(client, path)
    assert response.status_code == 404, path
    assert b"not the console's" not in response.data
    assert b"SECRET" not in response.data
    assert_security_headers(response)


def test_a_symlink_out_of_dist_is_refused(client: Client, dist: Path) -> None:
    (dist / "assets" / "link.txt").symlink_to(dist.parent / "outside.txt")
    assert get(client, "/console/assets/link.txt").status_code == 404


def test_an_unbuilt_console_is_503_saying_what_to_run(tmp_path: Path, cognito: FakeCognito) -> None:
    client = client_for(ConsoleSite(SETTINGS, dist=tmp_path / "nothing", transport=cognito))
    for path in ("/console/", "/console/assets/index-3f2a1b.js"):
        response = get(client, path)
        assert response.status_code == 503
        assert response.json == {"message": "console not built: run make console"}
        assert_security_headers(response)
    # The stack's part needs no build.
    assert get(client, "/console/config.json").status_code == 200


def test_files_are_read_only(client: Client) -> None:
    response = client.post("/console/index.html", base_url=BASE, data=b"x")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert_security_headers(response)


def test_the_rest_of_the_api_is_untouched(client: Client) -> None:
    # No route in this gateway: what API Gateway answers for a path it does not know.
    assert get(client, "/consoles").status_code == 403
    assert get(client, "/lines").status_code == 403


# ---------------------------------------------------------------- config.json
def test_config_names_this_gateway_its_pool_and_the_cognito_proxy(client: Client) -> None:
    response = get(client, "/console/config.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert_security_headers(response)
    assert response.json == {
        "apiUrl": BASE,
        "region": "eu-west-1",
        "userPoolId": "eu-west-1_org",
        "userPoolClientId": "org-client",
        "cognitoEndpoint": f"{BASE}/console/cognito/",
        "authFlow": "USER_PASSWORD_AUTH",
        "audience": "organisation",
    }


def test_the_custodian_gateway_names_its_own_pool(dist: Path, cognito: FakeCognito) -> None:
    settings = ConsoleSettings(
        region="eu-west-1",
        user_pool_id="eu-west-1_custodian",
        user_pool_client_id="custodian-client",
        audience="custodian",
        aws_endpoint="http://127.0.0.1:9",
    )
    client = client_for(ConsoleSite(settings, dist=dist, transport=cognito))
    config = client.get("/console/config.json", base_url="http://127.0.0.1:3001").json
    assert config["apiUrl"] == "http://127.0.0.1:3001"
    assert config["cognitoEndpoint"] == "http://127.0.0.1:3001/console/cognito/"
    assert (config["userPoolId"], config["userPoolClientId"]) == ("eu-west-1_custodian", "custodian-client")
    assert config["audience"] == "custodian"


# ---------------------------------------------------------------- Cognito
def cognito_post(
    client: Client, target: str | None, body: bytes = b'{"ClientId": "org-client"}'
) -> TestResponse:
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        headers["X-Amz-Target"] = target
    return client.post("/console/cognito/", base_url=BASE, data=body, headers=headers)


@pytest.mark.parametrize("target", sorted(COGNITO_TARGETS - {REVOKE_TOKEN}))
def test_sign_in_operations_reach_cognito_as_sent(client: Client, cognito: FakeCognito, target: str) -> None:
    body = b'{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "org-client"}'
    response = cognito_post(client, target, body)
    assert response.status_code == 200
    assert cognito.calls == [(target, body, "application/x-amz-json-1.1")]
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert response.headers["Cache-Control"] == "no-store"
    assert_security_headers(response)


def test_sign_out_revokes_without_asking_the_stand_in(client: Client, cognito: FakeCognito) -> None:
    """moto has no RevokeToken (a 500 in the browser at every sign-out); the proxy answers it."""
    response = cognito_post(client, REVOKE_TOKEN, b'{"Token": "x", "ClientId": "org-client"}')
    assert (response.status_code, response.data) == (200, b"{}")
    assert cognito.calls == []
    assert_security_headers(response)


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "AWSCognitoIdentityProviderService.AdminCreateUser",
        "AWSCognitoIdentityProviderService.AdminSetUserPassword",
        "AWSCognitoIdentityProviderService.ListUsers",
        "AWSCognitoIdentityProviderService.SignUp",
        "AWSCognitoIdentityProviderService.ChangePassword",
        "AWSCognitoIdentityProviderService.DeleteUser",
        "AWSCognitoIdentityProviderService.UpdateUserAttributes",
        "awscognitoidentityproviderservice.initiateauth",
        "DynamoDB_20120810.Scan",
        "TrentService.Decrypt",
    ],
)
def test_anything_else_is_400_and_never_reaches_cognito(
    client: Client, cognito: FakeCognito, target: str | None
) -> None:
    response = cognito_post(client, target)
    assert response.status_code == 400
    assert cognito.calls == []
    assert_security_headers(response)


def test_cognito_errors_come_back_as_cognito_said(dist: Path) -> None:
    error = b'{"__type": "NotAuthorizedException", "message": "Incorrect username or password."}'
    cognito = FakeCognito(
        (
            400,
            error,
            {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "NotAuthorizedException"},
        )
    )
    client = client_for(ConsoleSite(SETTINGS, dist=dist, transport=cognito))
    response = cognito_post(client, "AWSCognitoIdentityProviderService.InitiateAuth")
    assert response.status_code == 400
    assert response.data == error
    assert response.headers["x-amzn-ErrorType"] == "NotAuthorizedException"


def test_only_post_reaches_cognito(client: Client, cognito: FakeCognito) -> None:
    response = get(client, "/console/cognito/")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert cognito.calls == []


def test_an_oversized_body_is_refused(client: Client, cognito: FakeCognito) -> None:
    response = cognito_post(client, "AWSCognitoIdentityProviderService.InitiateAuth", b"x" * (64 * 1024 + 1))
    assert response.status_code == 413
    assert cognito.calls == []


def test_an_unreachable_stand_in_is_502(dist: Path) -> None:
    def down(target: str, body: bytes, content_type: str) -> tuple[int, bytes, dict[str, str]]:
        raise requests.ConnectionError("refused")

    transport: Transport = down
    client = client_for(ConsoleSite(SETTINGS, dist=dist, transport=transport))
    response = cognito_post(client, "AWSCognitoIdentityProviderService.InitiateAuth")
    assert response.status_code == 502
    assert_security_headers(response)


def test_the_default_transport_asks_the_stand_ins_cognito_by_host(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: dict[str, object] = {}

    class Answer:
        status_code = 200
        content = b"{}"
        headers = requests.structures.CaseInsensitiveDict(
            {"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "r1", "server": "moto"}
        )

    def post(url: str, **kwargs: object) -> Answer:
        sent.update(url=url, **kwargs)
        return Answer()

    monkeypatch.setattr(requests, "post", post)
    site = ConsoleSite(SETTINGS)
    status, body, headers = site._post_to_stand_in(
        "AWSCognitoIdentityProviderService.InitiateAuth", b"{}", "application/x-amz-json-1.1"
    )
    assert sent["url"] == "http://127.0.0.1:9/"
    assert sent["headers"] == {
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        "Content-Type": "application/x-amz-json-1.1",
        "Host": "cognito-idp.eu-west-1.amazonaws.com",
    }
    assert (status, body) == (200, b"{}")
    assert headers == {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "r1"}


# ---------------------------------------------------------------- the policy itself
def test_the_local_policy_is_strict() -> None:
    directives = dict((d.split(" ", 1)[0], d.split(" ", 1)[1]) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"  # Cognito through this origin
    assert directives["object-src"] == "'none'"
