"""`make smoke`: the happy path against any deployed stack, given its outputs.

    python infrastructure/smoke.py --outputs .local/outputs.json     # the local stack (make test runs it)
    python infrastructure/smoke.py --outputs prod-outputs.json       # a deployment, tokens from the env

Four steps, each one a thing a person relies on, each checked as a person would see it:

1. a signed Twilio call is answered with TwiML that routes it (a caller is never left unanswered);
2. the call appears in the anonymised register (P8), without the number (P2, P3);
3. a volunteer's report naming someone is stored with the name replaced (P5);
4. a disclosure request on consent reaches `awaiting_decision` and waits there (P6, P7): nothing is
   approved, so nothing is ever decrypted. Against a real deployment compliance then sees one smoke
   request, which it rejects.

Outputs: `ApiUrl`, and either `DemoUsers` with `UserPoolClientId`/`AwsEndpoint`/`Region` (the local
stack: its demo users sign in with a password) or ID tokens in `SMOKE_TOKEN_VOLUNTEER`,
`SMOKE_TOKEN_STAFF` and `SMOKE_TOKEN_PROFESSIONAL` (a deployment: privileged users sign in with SRP and
MFA, which no script should hold). The Twilio auth token is `TwilioAuthToken` in the outputs or
`SMOKE_TWILIO_AUTH_TOKEN`; `SMOKE_CONSENT_RECORDED_BY` names the user who recorded the consent (default:
the volunteer's username). The caller's number is a fictitious one of the smoke test's own and is never
printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests
from twilio.request_validator import RequestValidator

SMOKE_CALLER = "+31612340000"
"""Fictitious: in the Dutch mobile range, used by this script only."""
TIMEOUT_S = 30
WAIT_S = 60
REPORT_NAME = "Annelies de Boer"


class SmokeFailure(AssertionError):
    """A step did not do what a person relies on; the message says which and what was seen."""


@dataclass(frozen=True)
class Stack:
    api: str
    outputs: dict[str, Any]

    def token(self, group: str) -> str:
        given = os.environ.get(f"SMOKE_TOKEN_{group.upper()}")
        if given:
            return given
        users = self.outputs.get("DemoUsers")
        if not users:
            raise SmokeFailure(f"no token for {group}: set SMOKE_TOKEN_{group.upper()}")
        cognito = boto3.client(
            "cognito-idp",
            region_name=self.outputs["Region"],
            endpoint_url=self.outputs.get("AwsEndpoint"),
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the local stand-in takes any credentials
        )
        answer = cognito.initiate_auth(
            ClientId=self.outputs["UserPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": users[group]["username"], "PASSWORD": users[group]["password"]},
        )
        return str(answer["AuthenticationResult"]["IdToken"])

    def username(self, token: str) -> str:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["cognito:username"])

    def call_api(self, method: str, path: str, token: str, body: Any = None) -> requests.Response:
        return requests.request(
            method,
            f"{self.api}{path}",
            headers={"Authorization": f"Bearer {token}"},
            json=body,
            timeout=TIMEOUT_S,
        )


def _expect(condition: bool, step: str, seen: str) -> None:
    if not condition:
        raise SmokeFailure(f"{step}: {seen}")


def _wait_for(step: str, probe: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(1)
    raise SmokeFailure(f"{step}: not seen within {WAIT_S} s")


def signed_call(stack: Stack, helpline_number: str) -> str:
    """Step 1: a signed incoming call; its answer routes the call. Returns the call's sid."""
    token = os.environ.get("SMOKE_TWILIO_AUTH_TOKEN") or stack.outputs.get("TwilioAuthToken")
    if not token:
        raise SmokeFailure("no Twilio auth token: set SMOKE_TWILIO_AUTH_TOKEN")
    url = f"{stack.api}/webhooks/twilio/voice"
    sid = "CA" + uuid.uuid4().hex
    form = {"CallSid": sid, "From": SMOKE_CALLER, "To": helpline_number, "CallStatus": "ringing"}
    signature = RequestValidator(token).compute_signature(url, form)
    answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=TIMEOUT_S)
    _expect(answer.status_code == 200, "call", f"HTTP {answer.status_code}")
    _expect("<Enqueue" in answer.text, "call", "the answer does not route the call")
    return sid


def call_in_register(stack: Stack, staff: str, since: datetime) -> str:
    """Step 2: the call's anonymised record, found by its channel and time; the number nowhere."""

    def probe() -> str | None:
        answer = stack.call_api("GET", f"/contacts?channel=voice&from={since.date().isoformat()}", staff)
        _expect(answer.status_code == 200, "register", f"HTTP {answer.status_code}")
        _expect(SMOKE_CALLER[3:] not in answer.text, "register", "the caller's number is in the register")
        for item in answer.json()["items"]:
            if datetime.fromisoformat(item["started_at"].replace("Z", "+00:00")) >= since:
                return str(item["id"])
        return None

    found: str = _wait_for("register", probe)
    return found


def report_scrubbed(stack: Stack, volunteer: str, contact_id: str) -> None:
    """Step 3: a report naming someone is stored with the name replaced (P5)."""
    text = f"Beller vertelde over {REPORT_NAME}; samen naar opties gekeken."
    answer = stack.call_api("POST", f"/contacts/{contact_id}/reports", volunteer, {"text": text})
    _expect(answer.status_code == 201, "report", f"HTTP {answer.status_code}")
    stored = answer.json()["text"]
    _expect(REPORT_NAME not in stored and "[PERSOON" in stored, "report", "the name was not replaced")


def disclosure_waits(stack: Stack, professional: str, recorded_by: str, contact_id: str) -> str:
    """Step 4: a request on consent reaches `awaiting_decision`; nothing is approved."""
    body = {
        "contact_id": contact_id,
        "basis": "consent",
        "consent": {
            "recorded_by": recorded_by,
            "recorded_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
            "method": "phone",
            "statement": "Smoke test of the deployment: reject this request.",
        },
    }
    answer = stack.call_api("POST", "/disclosures", professional, body)
    _expect(answer.status_code == 202, "disclosure", f"HTTP {answer.status_code}: {answer.text[:200]}")
    request_id = str(answer.json()["id"])

    def probe() -> bool:
        state = stack.call_api("GET", f"/disclosures/{request_id}", professional)
        return state.status_code == 200 and state.json().get("status") == "awaiting_decision"

    _wait_for("disclosure", probe)
    return request_id


def run(outputs_path: Path, helpline_number: str) -> list[str]:
    """Every step in order; the lines to print. Raises SmokeFailure at the first that fails."""
    outputs = json.loads(outputs_path.read_text(encoding="utf-8"))
    stack = Stack(api=str(outputs["ApiUrl"]).rstrip("/"), outputs=outputs)
    volunteer, staff, professional = (stack.token(g) for g in ("volunteer", "staff", "professional"))
    recorded_by = os.environ.get("SMOKE_CONSENT_RECORDED_BY") or stack.username(volunteer)
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=2)
    lines = []
    started = time.monotonic()
    signed_call(stack, helpline_number)
    lines.append("ok  a signed call is answered and routed")
    contact_id = call_in_register(stack, staff, since)
    lines.append(f"ok  the call is in the register, anonymised (contact {contact_id})")
    report_scrubbed(stack, volunteer, contact_id)
    lines.append("ok  a report naming someone is stored with the name replaced")
    request_id = disclosure_waits(stack, professional, recorded_by, contact_id)
    lines.append(f"ok  a disclosure request waits for compliance (request {request_id}; reject it)")
    lines.append(f"smoke passed in {time.monotonic() - started:.1f} s")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outputs", type=Path, default=Path(".local/outputs.json"))
    parser.add_argument(
        "--helpline-number",
        default=os.environ.get("SMOKE_HELPLINE_NUMBER", "+31881234000"),
        help="a voice helpline's number in the line registry (the local stack's demo line by default)",
    )
    args = parser.parse_args(argv)
    try:
        for line in run(args.outputs, args.helpline_number):
            print(line)
    except SmokeFailure as failure:
        print(f"FAILED {failure}", file=sys.stderr)
        return 1
    except requests.RequestException as error:
        print(f"FAILED the stack did not answer: {type(error).__name__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
