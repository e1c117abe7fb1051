"""History for the gap after a reconnect: asked of the backend, and skipped when it has none."""

from __future__ import annotations

import httpx

from dashboard.history import HttpHistory
from tests.support.server import ServerProcess


def test_http_history_stops_asking_a_backend_without_history(server: ServerProcess) -> None:
    with httpx.Client() as client:
        probe = client.get(server.http + "/rooms/lobby/messages")
        history = HttpHistory(client, server.http)
        got = history.after("lobby", 0, 10)
    if probe.status_code == 404:
        assert got == [] and not history.available
    else:
        assert history.available and isinstance(got, list)
