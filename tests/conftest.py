"""Fixtures: a real backend process per module (or per test, when a test needs its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.support.browser import chromium
from tests.support.clients import close_all
from tests.support.postgres import PostgresServer
from tests.support.server import ServerFactory, ServerProcess


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    close_all()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A backend with default settings, shared by the tests of one module."""
    with ServerProcess() as proc:
        yield proc
        close_all()


@pytest.fixture
def make_server() -> Iterator[ServerFactory]:
    """Start backends with custom settings; all are stopped after the test."""
    started: list[ServerProcess] = []

    def start(env: dict[str, str] | None = None, port: int | None = None) -> ServerProcess:
        proc = ServerProcess(env, port).start()
        started.append(proc)
        return proc

    yield start
    close_all()  # clients first: a server stopping with clients open waits CLOSE_TIMEOUT for each
    for proc in started:
        proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless system Chromium per module; tests open their own contexts.

    Not one per session: while Playwright's sync API is started, its event loop counts as
    running in this thread, and `asyncio.run()` in any later test fails. Under pytest-xdist a
    worker runs modules in no set order, so a backend test can follow a browser test."""
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL for the session; tests use their own database names or rooms."""
    server = PostgresServer().init().start()
    yield server
    server.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs against SQLite and against a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/messages.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.url
