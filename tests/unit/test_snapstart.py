"""SnapStart runtime hooks (helpline.snapstart): after a restore nothing cached before the snapshot
is shared: boto3 clients and sessions, the vault and sealers with their data-key caches, the adapters
wired from them, Powertools' cached secrets, the `random` state."""

from __future__ import annotations

import functools
import importlib
import json
import os
import pkgutil
import random
import subprocess
import sys
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters import base as parameters

import helpline
from helpline import settings, snapstart, wiring
from helpline.dal import buffer, disclosure_crypto, dynamodb, kms, mail, notify, transcript_reader, workflow
from local_stack.template import ALIAS, REPO_ROOT, TEMPLATE_PATH, Resolver, load_template

NOT_PER_ENVIRONMENT = {
    "helpline.settings.get_settings",  # the function's environment variables: the same after a restore
    "helpline.wiring.ingest_policy",  # numbers from those variables, no clients, no keys
    "helpline.logic.stats._time_values",  # a pure function of its argument
}


def _process_caches() -> dict[str, Any]:
    """Every module-level `functools.cache` and `_ProcessSingleton` under helpline.dal and wiring."""
    found: dict[str, Any] = {}
    modules = [wiring] + [
        importlib.import_module(f"helpline.dal.{info.name}")
        for info in pkgutil.iter_modules(helpline.dal.__path__)
    ]
    for module in modules:
        for name, value in vars(module).items():
            is_cache = isinstance(value, (functools._lru_cache_wrapper, kms._ProcessSingleton))
            if is_cache and getattr(value, "__module__", module.__name__) == module.__name__:
                found[f"{module.__name__}.{name}"] = value
    return found


def test_every_process_cache_of_the_adapters_is_forgotten_after_restore() -> None:
    hooks = snapstart.after_restore_hooks()
    caches = {name: c for name, c in _process_caches().items() if name not in NOT_PER_ENVIRONMENT}
    assert len(caches) >= 12
    missing = [name for name, c in caches.items() if c.cache_clear not in hooks]
    assert missing == []


def test_after_restore_drops_clients_keys_and_wired_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "IDENTIFIER_KEY_ALIAS_PREFIX", "arn:aws:kms:eu-west-1:111122223333:alias/t/identifiers"
    )
    monkeypatch.setenv(
        "TRANSCRIPT_KEY_ALIAS_PREFIX", "arn:aws:kms:eu-west-1:111122223333:alias/t/transcripts"
    )
    monkeypatch.setenv("PSEUDONYM_KEY_ID", "alias/t/pseudonym")
    settings.get_settings.cache_clear()
    for client in (
        buffer.sqs_client,
        dynamodb.dynamodb_client,
        mail.s3_client,
        notify.sns_client,
        workflow.stepfunctions_client,
        disclosure_crypto.disclosure_kms_client,
        kms.kms_session,
    ):
        client()
    vault, sealer = kms.identifier_vault(), kms.transcript_sealer()
    providers: dict[str, Any] = vars(parameters)["DEFAULT_PROVIDERS"]
    providers["secrets"] = object()  # a provider with its client and cached secrets

    snapstart.run_after_restore()

    assert dynamodb.dynamodb_client.cache_info().currsize == 0
    assert buffer.sqs_client.cache_info().currsize == 0
    assert mail.s3_client.cache_info().currsize == 0
    assert notify.sns_client.cache_info().currsize == 0
    assert workflow.stepfunctions_client.cache_info().currsize == 0
    assert disclosure_crypto.disclosure_kms_client.cache_info().currsize == 0
    assert disclosure_crypto.identifier_opener.cache_info().currsize == 0
    assert transcript_reader.transcript_reader.cache_info().currsize == 0
    assert kms.kms_session.cache_info().currsize == 0
    assert wiring.ingest_ports.cache_info().currsize == 0
    assert wiring.transcript_ports.cache_info().currsize == 0
    assert kms.identifier_vault() is not vault  # a new vault: no data keys, no derived reference key
    assert kms.transcript_sealer() is not sealer
    assert providers == {}
    kms.identifier_vault.cache_clear()
    kms.transcript_sealer.cache_clear()
    settings.get_settings.cache_clear()


def test_after_restore_reseeds_random() -> None:
    random.seed(7)
    snapshotted = random.getstate()
    snapstart.run_after_restore()
    assert random.getstate() != snapshotted


def test_hooks_register_and_run_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapstart, "_after_restore", [])
    monkeypatch.setattr(snapstart, "_before_snapshot", [])
    calls: list[str] = []
    snapstart.after_restore(lambda: calls.append("a"))
    snapstart.after_restore(lambda: calls.append("b"))
    snapstart.before_snapshot(lambda: calls.append("s"))
    snapstart.run_before_snapshot()
    snapstart.run_after_restore()
    assert calls == ["s", "a", "b"]


# ------------------------------------------------------------------ what the snapshot holds
_SNAPSHOT_PROBE = """
import json, runpy, sys
from pydantic import TypeAdapter
runpy.run_path(sys.argv[1])
from helpline.models.common import Model

def pending():
    found = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("helpline.") or module is None:
            continue
        for key, value in vars(module).items():
            model = isinstance(value, type) and issubclass(value, Model) and value.__module__ == name
            if model and not value.__pydantic_complete__:
                found.append(f"{name}.{key}")
            elif isinstance(value, TypeAdapter) and not value.pydantic_complete:
                found.append(f"{name}.{key}")
    return sorted(set(found))

imported = {"pending": pending(), "phonenumbers": "phonenumbers" in sys.modules}
import helpline.snapstart
helpline.snapstart.run_before_snapshot()
ready = {"pending": pending(), "phonenumbers": "phonenumbers" in sys.modules}
print(json.dumps({"imported": imported, "ready": ready}))
"""


def _probe(script: str, function: str) -> dict[str, Any]:
    """Run `script` in a fresh interpreter, as Lambda's init runs, on the handler of `function`; the
    JSON it prints last."""
    path = REPO_ROOT / "functions" / function / "app.py"
    done = subprocess.run(  # noqa: S603 - our own interpreter and file
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_DEFAULT_REGION": "eu-west-1"},
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _snapshot_of(function: str) -> dict[str, Any]:
    """Import a handler, then run the snapshot hooks: what each left to build."""
    return _probe(_SNAPSHOT_PROBE, function)


@pytest.mark.parametrize("function", ["twilio_webhook", "connect_contact"])
def test_a_voice_function_snapshots_its_models_and_the_phone_metadata(function: str) -> None:
    """Importing builds no model (a cold start without SnapStart stays short); the before-snapshot
    hooks build every one and load `phonenumbers`, so no caller waits for them after a restore."""
    snapshot = _snapshot_of(function)
    assert len(snapshot["imported"]["pending"]) >= 5
    assert not snapshot["imported"]["phonenumbers"]
    assert snapshot["ready"] == {"pending": [], "phonenumbers": True}


def test_a_chat_function_never_loads_phone_metadata() -> None:
    snapshot = _snapshot_of("chat_webhook")
    assert "helpline.providers.chat.ChatEventAdapter" in snapshot["imported"]["pending"]
    assert snapshot["ready"] == {"pending": [], "phonenumbers": False}


# ------------------------------------------------------------------ the template
def _functions() -> dict[str, dict[str, Any]]:
    resources = load_template(TEMPLATE_PATH)["Resources"]
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}


def test_every_function_a_person_waits_on_has_snapstart_on_its_alias() -> None:
    """Behind the API someone waits for the answer; Connect holds a caller in the flow."""
    functions = _functions()
    waited_on = {
        name
        for name, props in functions.items()
        if any(e["Type"] == "Api" for e in props.get("Events", {}).values())
    } | {"ConnectContactFunction"}
    assert len(waited_on) >= 12
    for name in sorted(waited_on):
        assert functions[name].get("SnapStart") == {"ApplyOn": "PublishedVersions"}, name
        assert functions[name].get("AutoPublishAlias") == ALIAS, name


def test_connect_invokes_the_alias_that_has_the_snapshot() -> None:
    """The unqualified function is never snapshotted: the permission and the ARN given to the flow
    must both name the alias."""
    template = load_template(TEMPLATE_PATH)
    permission = template["Resources"]["ConnectInvokePermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "ConnectContactFunction.Alias"}
    assert template["Outputs"]["ConnectContactFunctionArn"]["Value"] == {
        "Ref": "ConnectContactFunction.Alias"
    }


def test_the_local_stack_resolves_an_alias_to_the_function_it_names() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:connect-contact"
    resolver = Resolver(template={}, pseudo={}, attributes={("ConnectContactFunction", "Arn"): arn})
    assert resolver.resolve({"Ref": "ConnectContactFunction.Alias"}) == f"{arn}:{ALIAS}"
    with pytest.raises(KeyError, match="NoSuchFunction"):
        resolver.resolve({"Ref": "NoSuchFunction.Alias"})


_COLLECTOR_PROBE = """
import gc, json, runpy, sys
import helpline.cold_start
paused = not gc.isenabled()
runpy.run_path(sys.argv[1])
state = {"paused_while_loading": paused, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
print(json.dumps(state))
"""


@pytest.mark.parametrize(
    "function", ["twilio_webhook", "connect_contact", "chat_webhook", "email_intake", "connect_events"]
)
def test_a_contact_path_function_loads_with_the_collector_paused_then_back_on(function: str) -> None:
    """helpline.cold_start: nothing collected while loading; collecting again once loaded, with what
    was loaded frozen out of its reach."""
    state = _probe(_COLLECTOR_PROBE, function)
    assert state["paused_while_loading"] is True
    assert state["enabled"] is True
    assert state["frozen"] > 10_000
