"""`make deploy-console` (issue 12): the deployed console's config.json from the stack's outputs, and the
upload in an order that never leaves an open page naming files that are gone."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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
