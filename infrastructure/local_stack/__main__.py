"""`python -m local_stack`: start the local stack in the foreground (what `make run` does).

`python -m local_stack token GROUP` prints an ID token for that group's demo user of a running stack,
for `curl -H "Authorization: Bearer $TOKEN"` (group `custodian`: a user of the custodian's own pool).

`python -m local_stack clock --advance-days N` moves the running local stack's clock N days forward
and returns once the schedules that came due have run (key stewards, the retention sweep, TTL, key
destruction): a rehearsal of retention (P7). The deployed stacks have no such thing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import boto3
import requests

from local_stack.rehearsal import ROUTE as CLOCK_ROUTE
from local_stack.stack import LocalStack, LocalStackConfig
from local_stack.template import REPO_ROOT

OUTPUTS = Path(os.environ.get("LOCAL_STACK_OUTPUTS", REPO_ROOT / ".local" / "outputs.json"))


def serve() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its access log would print query strings
    for chatty in ("botocore", "boto3", "aws_encryption_sdk"):  # SDK internals; the handlers log their own
        logging.getLogger(chatty).setLevel(logging.WARNING)
    started = time.monotonic()
    config = LocalStackConfig(
        api_port=int(os.environ.get("LOCAL_API_PORT", "3000")),
        custodian_api_port=int(os.environ.get("LOCAL_CUSTODIAN_API_PORT", "3001")),
        outputs_path=OUTPUTS,
    )
    stack = LocalStack(config).start()
    logging.getLogger("local_stack").info(
        "ready in %.1fs: API %s, custodian API %s, AWS stand-in %s, outputs in %s",
        time.monotonic() - started,
        stack.api_url,
        stack.custodian_api_url,
        stack.aws_endpoint,
        config.outputs_path,
    )
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    stopping.wait()
    logging.getLogger("local_stack").info("stopping")
    stack.stop()
    return 0


def token(group: str) -> int:
    outputs = json.loads(OUTPUTS.read_text(encoding="utf-8"))
    user = outputs["DemoUsers"][group]
    cognito = boto3.client(
        "cognito-idp",
        region_name=outputs["Region"],
        endpoint_url=outputs["AwsEndpoint"],
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the stand-in takes any credentials
    )
    client_id = outputs["CustodianUserPoolClientId" if group == "custodian" else "UserPoolClientId"]
    result = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"]},
    )
    print(result["AuthenticationResult"]["IdToken"])
    return 0


def advance_clock(days: float) -> int:
    outputs = json.loads(OUTPUTS.read_text(encoding="utf-8"))
    response = requests.post(f"{outputs['ApiUrl']}{CLOCK_ROUTE}", json={"advance_days": days}, timeout=600)
    print(json.dumps(response.json(), indent=2))
    return 0 if response.ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="start the local stack (the default)")
    token_parser = commands.add_parser("token", help="print a demo user's ID token")
    token_parser.add_argument(
        "group", choices=["volunteer", "mentor", "staff", "professional", "compliance", "admin", "custodian"]
    )
    clock_parser = commands.add_parser("clock", help="move the running local stack's clock forward")
    clock_parser.add_argument("--advance-days", type=float, required=True, help="days to move forward (>= 0)")
    args = parser.parse_args()
    if args.command == "token":
        return token(args.group)
    if args.command == "clock":
        return advance_clock(args.advance_days)
    return serve()


if __name__ == "__main__":
    raise SystemExit(main())
