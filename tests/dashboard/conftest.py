"""Fixtures for the dashboard: feed clients that are always stopped, AppTests on a real backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.feed import FeedClient
from dashboard.settings import DashboardSettings
from tests.support.server import ROOT
from tests.support.waiting import eventually

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture
def make_feed() -> Iterator[Callable[..., FeedClient]]:
    """Start feed clients on given settings; all are stopped after the test."""
    started: list[FeedClient] = []

    def start(backend_url: str, **overrides: Any) -> FeedClient:
        settings = replace(DashboardSettings(backend_url=backend_url), **overrides)
        client = FeedClient(settings).start()
        started.append(client)
        return client

    yield start
    for client in started:
        client.stop()


@pytest.fixture
def app_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., AppTest]]:
    """An AppTest of dashboard/app.py with BACKEND_URL (and any other variables given) set; its
    feed client stops afterwards."""
    monkeypatch.setenv("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    # Credentials of the developer's shell must not leak into the app under test.
    for name in ("DASHBOARD_TOKEN", "DASHBOARD_USERNAME", "DASHBOARD_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STREAMLIT_SERVER_HEADLESS", "true")

    def build(backend_url: str, **env: str) -> AppTest:
        monkeypatch.setenv("BACKEND_URL", backend_url)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return AppTest.from_file(APP, default_timeout=20).run()

    yield build
    # Runs on_release, which stops the feed thread of every app built here.
    st.cache_resource.clear()


def rerun_until(app: AppTest, check: Callable[[AppTest], bool], what: str) -> AppTest:
    """Rerun the script (as the page's ticks would) until `check` holds."""

    def ready() -> bool:
        app.run()
        return check(app)

    eventually(ready, timeout=15.0, what=what)
    return app
