"""One local stack for the e2e session, started as `make run` starts it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from running_stack import RunningStack, running_stack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_stack(tmp_path_factory.mktemp("local-stack")) as running:
        yield running
