"""Connections: MAX_CONNECTIONS counts every TCP connection from accept (pending handshakes and
logins by first frame included) and MAX_CONNECTIONS_PER_ADDRESS each client address; over
either, a JSON error with 503 or 429 and the socket closed, while a healthy pair goes on."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import websocket

from tests.adversarial.harness import (
    Watch,
    json_body,
    raw_socket,
    read_until_closed,
    scaled,
    status_of,
    upgrade_request,
)
from tests.support.auth import SECRET, sign
from tests.support.clients import OPENED, close_all
from tests.support.server import (
    ROOT,
    ServerFactory,
    ServerProcess,
    free_port,
    stop_process,
    wait_healthy,
)

Attempt = websocket.WebSocket | int


def open_ws(server: ServerProcess, query: str = "", source: str = "127.0.0.1") -> Attempt:
    """A connected WebSocket from `source`, or the HTTP status of the refusal."""
    sock = raw_socket(server, source)
    try:
        ws = websocket.create_connection(server.ws + query, timeout=5, socket=sock)
    except websocket.WebSocketBadStatusException as refused:
        return int(refused.status_code)
    OPENED.append(ws)
    return ws


def test_pending_logins_count_against_max_connections(make_server: ServerFactory) -> None:
    limit = 20
    server = make_server(
        {
            "MAX_CONNECTIONS": str(limit),
            "AUTH_REQUIRED": "true",
            "JWT_SECRET": SECRET,
            "AUTH_TIMEOUT_SECONDS": "10",
        }
    )
    with Watch(server, f"token={sign('healthy')}"):
        # JSON mode without a token: accepted, then waiting for an `auth` first frame.
        results = [open_ws(server, "?format=json") for _ in range(scaled(60, 200))]
        accepted = [r for r in results if not isinstance(r, int)]
        refused = [r for r in results if isinstance(r, int)]
        # The healthy pair holds two of the connections.
        assert len(accepted) <= limit - 2, f"{len(accepted)} pending logins accepted"
        assert refused and set(refused) == {503}
        raw = raw_socket(server)
        raw.sendall(upgrade_request("/ws?format=json"))
        answer = read_until_closed(raw, 5)
        assert status_of(answer) == 503
        assert json_body(answer)["error"]["code"] == "unavailable"
        for ws in accepted:
            ws.close(timeout=0.5)


def test_one_address_cannot_take_more_than_its_share(make_server: ServerFactory) -> None:
    per_address = 10
    server = make_server({"MAX_CONNECTIONS_PER_ADDRESS": str(per_address)})
    with Watch(server):  # from 127.0.0.1; the attacker comes from 127.0.0.2
        results = [open_ws(server, "", "127.0.0.2") for _ in range(scaled(30))]
        accepted = [r for r in results if not isinstance(r, int)]
        assert len(accepted) == per_address
        assert [r for r in results if isinstance(r, int)] == [429] * (len(results) - per_address)
        raw = raw_socket(server, "127.0.0.2")
        raw.sendall(upgrade_request())
        answer = read_until_closed(raw, 5)
        assert status_of(answer) == 429
        assert json_body(answer)["error"]["code"] == "too_many_connections"
        # Another address is not affected, and a freed slot is free again.
        assert not isinstance(open_ws(server, "", "127.0.0.3"), int)
        accepted[0].close()
        for _ in range(50):
            fresh = open_ws(server, "", "127.0.0.2")
            if not isinstance(fresh, int):
                break
            time.sleep(0.05)
        assert not isinstance(fresh, int)


def test_half_open_handshakes_hold_a_slot_only_until_their_deadline(
    make_server: ServerFactory,
) -> None:
    limit, timeout = 10, 2.0
    server = make_server({"MAX_CONNECTIONS": str(limit), "HANDSHAKE_TIMEOUT_SECONDS": str(timeout)})
    with Watch(server):
        started = time.monotonic()
        half_open = [raw_socket(server) for _ in range(limit - 2)]  # the pair holds two
        for sock in half_open:
            sock.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
        assert open_ws(server) == 503  # counted from accept, not from the upgrade
        for sock in half_open:
            assert status_of(read_until_closed(sock, timeout + 3)) == 408
        assert time.monotonic() - started < timeout + 3
        fresh = None
        for _ in range(50):  # the server releases each slot as it sees the socket close
            fresh = open_ws(server)
            if not isinstance(fresh, int):
                break
            time.sleep(0.05)
        assert isinstance(fresh, websocket.WebSocket)


def test_at_capacity_health_probes_are_still_answered(make_server: ServerFactory) -> None:
    server = make_server({"MAX_CONNECTIONS": "4"})
    clients = [open_ws(server) for _ in range(4)]
    assert all(isinstance(c, websocket.WebSocket) for c in clients)
    assert open_ws(server) == 503
    # A liveness probe that failed here would restart a process that is only busy.
    for path in ("/healthz", "/readyz", "/metrics"):
        assert httpx.get(server.http + path).status_code == 200, path
    refused = httpx.get(server.http + "/rooms/r/messages")
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "unavailable"


def test_under_the_plain_uvicorn_cli_pending_logins_count_too(tmp_path: Path) -> None:
    # No gate there (python -m backend's protocols): the app counts sessions from the handshake.
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/messages.db",
        "MAX_CONNECTIONS": "10",
        "AUTH_REQUIRED": "true",
        "JWT_SECRET": SECRET,
        "AUTH_TIMEOUT_SECONDS": "10",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}/readyz", "uvicorn")
        url = f"ws://127.0.0.1:{port}/ws?format=json"
        results = []
        for _ in range(30):
            try:
                ws = websocket.create_connection(url, timeout=5)
            except websocket.WebSocketBadStatusException as refused:
                results.append(int(refused.status_code))
            else:
                OPENED.append(ws)
                results.append(101)
        assert results.count(101) == 10
        assert set(results) == {101, 503}
    finally:
        close_all()
        stop_process(proc)


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_share(
    make_server: ServerFactory,
) -> None:
    # 127.0.0.1 is in FORWARDED_ALLOW_IPS by default: it is the proxy, not one client.
    server = make_server({"MAX_CONNECTIONS_PER_ADDRESS": "3"})

    def via_proxy(client: str) -> Attempt:
        try:
            ws = websocket.create_connection(
                server.ws, timeout=5, header=[f"X-Forwarded-For: {client}"]
            )
        except websocket.WebSocketBadStatusException as refused:
            return int(refused.status_code)
        OPENED.append(ws)
        return ws

    first = [via_proxy("203.0.113.5") for _ in range(5)]
    assert [a for a in first if isinstance(a, int)] == [429, 429]
    assert not isinstance(via_proxy("203.0.113.6"), int)  # another client behind the proxy
