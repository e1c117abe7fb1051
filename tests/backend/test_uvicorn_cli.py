"""The original README's command still works: plain uvicorn, no fast path, same behaviour."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import websocket

from backend.closecodes import CloseCode
from tests.support.clients import JsonClient, assert_silent, connect
from tests.support.server import ROOT, free_port, wait_healthy


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    # Its own database: the command's default (data/desafio.db) is the developer's.
    database = tmp_path_factory.mktemp("cli") / "messages.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"},
    )  # fmt: skip
    wait_healthy(proc, f"http://127.0.0.1:{port}/readyz", "uvicorn")
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(15)


def test_plain_uvicorn_serves_the_welcome_and_relays_text(cli_server: str) -> None:
    assert httpx.get(f"http://{cli_server}/").json() == {
        "message": "Bem-vindo ao servidor WebSocket"
    }
    a, b = connect(f"ws://{cli_server}/ws"), connect(f"ws://{cli_server}/ws")
    a.send("via ASGI send")
    assert b.recv() == "via ASGI send"
    assert_silent(a)


def test_plain_uvicorn_coalesces_nothing_wrongly_in_json_mode(cli_server: str) -> None:
    author = JsonClient(f"ws://{cli_server}/ws", "room=cli")
    reader = JsonClient(f"ws://{cli_server}/ws", "room=cli")
    for n in range(50):
        author.send(type="publish", room="cli", text=str(n))
    assert [reader.next_of("message")["text"] for _ in range(50)] == [str(n) for n in range(50)]


def test_plain_uvicorn_still_enforces_the_size_limit_with_1009(cli_server: str) -> None:
    ws = connect(f"ws://{cli_server}/ws")
    ws.send("x" * (64 * 1024 + 1))
    opcode, data = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(data[:2], "big") == CloseCode.MESSAGE_TOO_BIG


def test_plain_uvicorn_serves_ws_through_asgi_and_says_so(cli_server: str) -> None:
    ws = connect(f"ws://{cli_server}/ws")
    metrics = httpx.get(f"http://{cli_server}/metrics").text
    assert 'desafio_ws_sessions_total{path="asgi"}' in metrics
    assert 'path="native"' not in metrics
    ws.close()
