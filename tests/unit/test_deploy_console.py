"""`make deploy-console` (issue 12): the deployed console's config.json from the stack's outputs, and the
upload in an order that never leaves an open page naming files that are gone."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from local_stack.template import REPO_ROOT


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "deploy_console", REPO_ROOT / "infrastructure" / "deploy_console.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["deploy_console"] = module
    spec.loader.exec_module(module)
    return module


deploy_console = _load()
OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
    "UserPoolId": "eu-west-1_Pool",
    "UserPoolClientId": "client123",
    "ConsoleBucketName": "helpline-prod-consolebucket-1x2y3z",
    "ConsoleDistributionId": "E2EXAMPLE",
}


def test_samconfig_names_each_environments_stack_and_region() -> None:
    assert deploy_console.stack_of("dev") == ("helpline-dev", "eu-west-1")
    assert deploy_console.stack_of("prod") == ("helpline-prod", "eu-west-1")
    with pytest.raises(SystemExit):
        deploy_console.stack_of("nowhere")


def test_the_deployed_config_has_the_local_keys_with_cognito_itself_and_srp() -> None:
    config = deploy_console.console_config(OUTPUTS, "eu-west-1")
    assert config == {
        "apiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        "region": "eu-west-1",
        "userPoolId": "eu-west-1_Pool",
        "userPoolClientId": "client123",
        "cognitoEndpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
        "authFlow": "USER_SRP_AUTH",
        "audience": "organisation",
    }


def test_assets_go_first_index_last_then_old_assets_and_the_cache(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    commands = deploy_console.upload_commands("bucket", "E2EXAMPLE", "eu-west-1", config, dist=tmp_path)
    joined = [" ".join(c) for c in commands]
    assert joined[0].startswith(f"aws s3 sync {tmp_path}/assets s3://bucket/assets/")
    assert "--delete" not in commands[0]
    assert "public, max-age=31536000, immutable" in commands[0]
    assert commands[1][:5] == ["aws", "s3", "sync", str(tmp_path), "s3://bucket/"]
    assert {"assets/*", "index.html", "config.json"} <= set(commands[1])
    assert commands[2][3:5] == [str(config), "s3://bucket/config.json"]
    assert commands[3][3:5] == [f"{tmp_path}/index.html", "s3://bucket/index.html"]
    for command in commands[2:4]:
        assert command[command.index("--cache-control") + 1] == "no-store"
    assert "--delete" in commands[4]
    assert commands[4][3] == f"{tmp_path}/assets"
    assert commands[5] == [
        "aws", "cloudfront", "create-invalidation", "--distribution-id", "E2EXAMPLE", "--paths", "/*"
    ]  # fmt: skip
    assert all("--region" in c for c in commands[:5])


# ---------------------------------------------------------------- the custodian's stack
CUSTODIAN_OUTPUTS = {
    "CustodianApiUrl": "https://xyz789.execute-api.eu-west-1.amazonaws.com/custodian/",
    "CustodianUserPoolId": "eu-west-1_Officers",
    "CustodianUserPoolClientId": "officers123",
    "IdentifierKeyAliasPrefix": "arn:aws:kms:eu-west-1:111122223333:alias/helpline-custodian-dev/identifiers",
    "ConsoleBucketName": "helpline-custodian-dev-custodianconsolebucket-9z8y",
    "ConsoleDistributionId": "E3CUSTODIAN",
    "ConsoleUrl": "https://d111.cloudfront.net/",
}


def test_samconfig_names_the_custodians_stacks() -> None:
    assert deploy_console.stack_of("custodian-dev") == ("helpline-custodian-dev", "eu-west-1")
    assert deploy_console.stack_of("custodian-prod")[0] == "helpline-custodian-prod"


def test_the_outputs_tell_whose_stack_it_is() -> None:
    assert deploy_console.audience_of(OUTPUTS) == "organisation"
    assert deploy_console.audience_of(CUSTODIAN_OUTPUTS) == "custodian"


def test_the_custodians_config_names_its_api_pool_and_client() -> None:
    expected = {
        "apiUrl": "https://xyz789.execute-api.eu-west-1.amazonaws.com/custodian",
        "region": "eu-west-1",
        "userPoolId": "eu-west-1_Officers",
        "userPoolClientId": "officers123",
        "cognitoEndpoint": None,
        "authFlow": "USER_SRP_AUTH",
        "audience": "custodian",
    }
    assert deploy_console.console_config(CUSTODIAN_OUTPUTS, "eu-west-1") == expected
    assert deploy_console.console_config(CUSTODIAN_OUTPUTS, "eu-west-1", "custodian") == expected


def _deploy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, outputs: dict[str, str], *argv: str
) -> tuple[int, list[list[str]], dict[str, Any]]:
    """main() on a fake build and stack: its return code, the commands it ran and the config it wrote."""
    (tmp_path / "index.html").write_text("<!doctype html>", encoding="utf-8")
    ran: list[list[str]] = []
    written: dict[str, Any] = {}

    def run(command: list[str], **_: Any) -> None:
        if command[:3] == ["aws", "s3", "cp"] and command[4].endswith("/config.json"):
            written.update(json.loads(Path(command[3]).read_text(encoding="utf-8")))
        ran.append(command)

    monkeypatch.setattr(deploy_console, "DIST", tmp_path)
    monkeypatch.setattr(deploy_console, "stack_outputs", lambda stack, region: outputs)
    monkeypatch.setattr(deploy_console.subprocess, "run", run)
    code = deploy_console.main(list(argv))
    return code, ran, written


def test_make_deploy_custodian_console_uploads_to_the_custodians_bucket(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, ran, written = _deploy(
        monkeypatch, tmp_path, CUSTODIAN_OUTPUTS, "--env", "custodian-dev", "--audience", "custodian"
    )
    assert code == 0
    assert written["audience"] == "custodian"
    assert written["apiUrl"] == "https://xyz789.execute-api.eu-west-1.amazonaws.com/custodian"
    assert written["cognitoEndpoint"] is None
    assert all("s3://helpline-custodian-dev-custodianconsolebucket-9z8y" in " ".join(c) for c in ran[:5])
    assert ran[5][-3:] == ["E3CUSTODIAN", "--paths", "/*"]


def test_a_stack_without_the_audiences_outputs_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The organisation's stack named as the custodian's (or one deployed before the console): no upload."""
    code, ran, _ = _deploy(monkeypatch, tmp_path, OUTPUTS, "--env", "dev", "--audience", "custodian")
    assert code == 1
    assert ran == []
    assert "CustodianApiUrl" in capsys.readouterr().err
    without_hosting = {k: v for k, v in CUSTODIAN_OUTPUTS.items() if not k.startswith("Console")}
    code, ran, _ = _deploy(monkeypatch, tmp_path, without_hosting, "--env", "custodian-dev")
    assert code == 1
    assert ran == []
    assert "infrastructure/custodian/template.yaml" in capsys.readouterr().err
