"""`make deploy-console ENV=dev`: put the built console (`console/dist`) on a deployed stack.

    python infrastructure/deploy_console.py --env dev              # what `make deploy-console` runs
    python infrastructure/deploy_console.py --env prod --dry-run   # print the AWS CLI commands only
    python infrastructure/deploy_console.py --env custodian-dev --audience custodian
                                                                   # `make deploy-custodian-console`

Either stack hosts the same build: the organisation's (template.yaml) for its staff, the custodian's
(infrastructure/custodian/template.yaml) for its officers. The stack's name and region come from
`samconfig.toml` (`[<env>.deploy.parameters]`), its outputs from `aws cloudformation describe-stacks`:
`config.json` (the console's API, user pool, app client and audience) is written from them, never built
into the bundle; without `--audience` the outputs tell which stack it is (`CustodianApiUrl`).

The upload keeps a page that is open working while it happens: the new hashed assets first (cached for a
year: their names change with their content), then the other files, `config.json` and last `index.html`
(never cached), then the assets no build names any more are deleted, and CloudFront's cache is
invalidated.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DIST = REPO_ROOT / "console" / "dist"
SAMCONFIG = REPO_ROOT / "samconfig.toml"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_STORE = "no-store"
REVALIDATE = "no-cache"


def stack_of(env: str, samconfig: Path = SAMCONFIG) -> tuple[str, str]:
    """(stack name, region) of a samconfig environment."""
    config = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    try:
        parameters = config[env]["deploy"]["parameters"]
    except KeyError:
        raise SystemExit(f"samconfig.toml has no [{env}.deploy.parameters]") from None
    region = (
        parameters.get("region")
        or config.get("default", {}).get("global", {}).get("parameters", {})["region"]
    )
    return str(parameters["stack_name"]), str(region)


# Each audience's stack outputs: (API URL, user pool, app client).
OUTPUT_KEYS = {
    "organisation": ("ApiUrl", "UserPoolId", "UserPoolClientId"),
    "custodian": ("CustodianApiUrl", "CustodianUserPoolId", "CustodianUserPoolClientId"),
}
HOSTING_KEYS = ("ConsoleBucketName", "ConsoleDistributionId")
TEMPLATES = {"organisation": "template.yaml", "custodian": "infrastructure/custodian/template.yaml"}


def audience_of(outputs: dict[str, str]) -> str:
    """`custodian` for the custodian's stack (it has `CustodianApiUrl`), else `organisation`."""
    return "custodian" if OUTPUT_KEYS["custodian"][0] in outputs else "organisation"


def console_config(
    outputs: dict[str, str], region: str, audience: str | None = None
) -> dict[str, str | None]:
    """What the deployed console reads from `config.json`: the same keys as the local one (local_stack
    console.py), with SRP (the deployed app clients allow nothing else) against Cognito itself: the
    organisation's names `https://cognito-idp.<region>.amazonaws.com/`, the custodian's `null` (the
    console then uses that same regional endpoint, Amplify's default)."""
    audience = audience or audience_of(outputs)
    api_url, pool, client = OUTPUT_KEYS[audience]
    return {
        "apiUrl": outputs[api_url].rstrip("/"),
        "region": region,
        "userPoolId": outputs[pool],
        "userPoolClientId": outputs[client],
        "cognitoEndpoint": (
            f"https://cognito-idp.{region}.amazonaws.com/" if audience == "organisation" else None
        ),
        "authFlow": "USER_SRP_AUTH",
        "audience": audience,
    }


def upload_commands(
    bucket: str, distribution_id: str, region: str, config: Path, dist: Path = DIST
) -> list[list[str]]:
    """The AWS CLI commands, in the order that keeps an open page working."""
    target, at = f"s3://{bucket}", ["--region", region]
    assets = [str(dist / "assets"), f"{target}/assets/", "--cache-control", IMMUTABLE]
    the_rest = [str(dist), f"{target}/", "--cache-control", REVALIDATE, "--delete"]
    for kept_apart in ("assets/*", "index.html", "config.json"):
        the_rest += ["--exclude", kept_apart]
    never_stored = ["--cache-control", NO_STORE, *at]
    return [
        ["aws", "s3", "sync", *assets, *at],
        ["aws", "s3", "sync", *the_rest, *at],
        [
            "aws",
            "s3",
            "cp",
            str(config),
            f"{target}/config.json",
            "--content-type",
            "application/json",
            *never_stored,
        ],
        [
            "aws",
            "s3",
            "cp",
            str(dist / "index.html"),
            f"{target}/index.html",
            "--content-type",
            "text/html; charset=utf-8",
            *never_stored,
        ],
        ["aws", "s3", "sync", *assets, "--delete", *at],
        ["aws", "cloudfront", "create-invalidation", "--distribution-id", distribution_id, "--paths", "/*"],
    ]


def stack_outputs(stack: str, region: str) -> dict[str, str]:
    answer = subprocess.run(  # noqa: S603 - the AWS CLI, as the README's deploy steps use it
        ["aws", "cloudformation", "describe-stacks", "--stack-name", stack, "--region", region],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    )
    described: dict[str, Any] = json.loads(answer.stdout)
    return {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy_console.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="dev", help="a samconfig.toml environment (default dev)")
    parser.add_argument(
        "--audience",
        choices=sorted(OUTPUT_KEYS),
        help="whose stack ENV is (default: from its outputs, custodian when it has CustodianApiUrl)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run none of the uploads")
    args = parser.parse_args(argv)
    if not (DIST / "index.html").is_file():
        print("console/dist/index.html missing: run make console", file=sys.stderr)
        return 1
    stack, region = stack_of(args.env)
    outputs = stack_outputs(stack, region)
    audience = args.audience or audience_of(outputs)
    missing = {*OUTPUT_KEYS[audience], *HOSTING_KEYS} - set(outputs)
    if missing:
        print(
            f"stack {stack} has no output {', '.join(sorted(missing))}: deploy {TEMPLATES[audience]} first",
            file=sys.stderr,
        )
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "config.json"
        text = json.dumps(console_config(outputs, region, audience), indent=2) + "\n"
        config.write_text(text, encoding="utf-8")
        for command in upload_commands(
            outputs["ConsoleBucketName"], outputs["ConsoleDistributionId"], region, config
        ):
            print("+", shlex.join(command), flush=True)
            if not args.dry_run:
                subprocess.run(command, check=True)  # noqa: S603 - the commands above
    print(f"{audience} console deployed: {outputs.get('ConsoleUrl', '(no ConsoleUrl output)')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
