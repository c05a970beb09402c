"""Handlers against moto: tables made from their template.yaml definitions, handlers loaded by path.

Handlers are loaded with `spec_from_file_location`, as the local stack loads them, so a handler that
relied on a relative import or on its directory being a package would fail here.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from helpline.process import forget_process_state
from local_stack.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TABLE_PROPERTIES = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")


@pytest.fixture
def aws() -> Iterator[None]:
    """moto for the test; the process-wide client and settings are rebuilt inside it."""
    with mock_aws():
        forget_process_state()
        yield
    forget_process_state()


def create_table_from_template(logical_id: str) -> str:
    """Create the table `logical_id` as template.yaml declares it; returns its name."""
    declared = load_template()["Resources"][logical_id]["Properties"]
    name = f"{logical_id}-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb").create_table(
        TableName=name, **{key: declared[key] for key in TABLE_PROPERTIES if key in declared}
    )
    return name


@pytest.fixture
def lines_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("LinesTable")
    monkeypatch.setenv("LINES_TABLE", name)
    return name


@pytest.fixture
def contacts_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = create_table_from_template("ContactsTable")
    monkeypatch.setenv("CONTACTS_TABLE", name)
    return name


def load_handler_module(relative_path: str) -> ModuleType:
    """Import a handler file under a unique name, the way the local stack does."""
    path = REPO_ROOT / relative_path
    spec = importlib.util.spec_from_file_location(f"_handler_{uuid.uuid4().hex}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load_handler() -> Callable[[str], Callable[[dict[str, Any], Any], Any]]:
    def load(relative_path: str) -> Callable[[dict[str, Any], Any], Any]:
        handler: Callable[[dict[str, Any], Any], Any] = load_handler_module(relative_path).lambda_handler
        return handler

    return load
