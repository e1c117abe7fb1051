"""The adversarial suite: one attack per budget of docs/security.md#budgets, each beside a
healthy client (tests/adversarial/harness.py). `ADVERSARIAL_SCALE=long` makes the attacks ten
times bigger; the fixtures are the suite's own (tests/conftest.py: `make_server`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adversarial.harness import close_raw
from tests.support.server import ServerFactory


@pytest.fixture(autouse=True)
def _close_raw_sockets() -> Iterator[None]:
    yield
    close_raw()


@pytest.fixture
def make_server(make_server: ServerFactory) -> Iterator[ServerFactory]:
    """tests/conftest.py's, with the attackers' raw sockets closed before the servers stop: a
    server stopping with a client open waits CLOSE_TIMEOUT for it (the autouse fixture above
    is set up first, so it would only close them after)."""
    yield make_server
    close_raw()


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every attack here is judged by a healthy client's p99 latency and the server's memory
    (harness.Watch): a test running beside it would skew both, so the whole suite is serial."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.serial)
