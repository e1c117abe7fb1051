"""The adversarial suite: one attack per budget of docs/security.md#budgets, each beside a
healthy client (tests/adversarial/harness.py). `ADVERSARIAL_SCALE=long` makes the attacks ten
times bigger; the fixtures are the suite's own (tests/conftest.py: `make_server`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.adversarial.harness import close_raw


@pytest.fixture(autouse=True)
def _close_raw_sockets() -> Iterator[None]:
    yield
    close_raw()
