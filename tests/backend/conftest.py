"""Fixtures for the backend tests that need more than one process: a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis import RedisServer


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh `redis-server` per test (no state leaks between tests), stopped afterwards."""
    server = RedisServer().start()
    yield server
    server.close()
