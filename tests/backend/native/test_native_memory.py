"""A connection's memory: an idle one keeps no more than a budget of objects, and a closed one's
are freed by reference counting, at once: none of them waits in a reference cycle for a full
collection (which, at 10,000 connections, pauses everyone).

The server runs in a thread of the test process, configured as `python -m backend` runs it
(backend.__main__.server_config), so that the test can look at its heap."""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator

import pytest
import uvicorn
import uvloop
import websocket

from backend.__main__ import server_config
from backend.app import create_app
from backend.config import Settings
from backend.hub.connection import Connection
from backend.native.protocol import NativeWebSocket
from backend.native.session import Inbound
from backend.session import Session
from tests.support.server import free_port

HUB_OBJECTS = (NativeWebSocket, Inbound, Session, Connection)


class ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # not the main thread: the test stops it
        pass


@pytest.fixture
def desafio_logging() -> Iterator[None]:
    """The app sets up the `desafio` loggers for the process (no propagation to the root, where
    pytest's caplog listens): put them back for the tests that run after, in this process."""
    logger = logging.getLogger("desafio")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture
def in_process(desafio_logging: None) -> Iterator[tuple[str, Settings]]:
    settings = Settings(database_url="none", host="127.0.0.1", port=free_port(),
                        log_level="WARNING", ws_ping_interval=0)  # fmt: skip
    app = create_app(settings)
    server = ThreadServer(server_config(settings, app))
    # uvloop, as `python -m backend` runs (uvicorn's loop="auto").
    thread = threading.Thread(target=lambda: uvloop.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"ws://127.0.0.1:{settings.port}/ws", settings
    server.should_exit = True
    thread.join(15)


def alive(kinds: tuple[type, ...]) -> int:
    """Instances of `kinds` the collector tracks, reachable or not (nothing is collected)."""
    return sum(1 for o in gc.get_objects() if isinstance(o, kinds))


def test_a_closed_connection_is_freed_without_waiting_for_the_cycle_collector(
    in_process: tuple[str, Settings],
) -> None:
    url, _ = in_process
    gc.collect()
    gc.disable()  # from here on, only reference counting frees anything
    try:
        baseline = alive(HUB_OBJECTS)
        clients = [websocket.create_connection(url + "?room=memory", timeout=10) for _ in range(20)]
        clients[0].send("hello")
        for client in clients[1:]:
            assert str(client.recv()).endswith("hello")
        assert alive(HUB_OBJECTS) >= baseline + 4 * len(clients)
        for client in clients:
            client.close()
        deadline = time.monotonic() + 10
        while alive(HUB_OBJECTS) > baseline and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alive(HUB_OBJECTS) == baseline
    finally:
        gc.enable()


# What an idle text connection keeps in memory that tracemalloc sees (Python objects, and uvloop's
# allocations through Python's allocator): 5.4 KiB at 500 connections with this project's Python
# and packages (docs/performance.md). The budget leaves ~9 % of headroom: a change that adds
# objects to every idle socket (three `partial`s did: +0.55 KiB) shows up here first.
IDLE_BYTES_BUDGET = 5_900

_IDLE_CLIENTS = """
import base64, os, socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws?room=idle HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\n"
               f"Connection: Upgrade\\r\\nSec-WebSocket-Key: {key}\\r\\n"
               "Sec-WebSocket-Version: 13\\r\\n\\r\\n").encode())
    assert s.recv(4096).startswith(b"HTTP/1.1 101")
    socks.append(s)
print("open", flush=True)
sys.stdin.read()
"""


def _idle_clients(port: int, count: int) -> subprocess.Popen[str]:
    """Idle raw-socket clients in another process, so that only the server's heap is measured."""
    clients = subprocess.Popen(
        [sys.executable, "-c", _IDLE_CLIENTS, str(port), str(count)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert clients.stdout is not None and clients.stdout.readline().strip() == "open"
    return clients


def test_an_idle_connection_keeps_a_few_kib_of_python_objects(
    in_process: tuple[str, Settings],
) -> None:
    _, settings = in_process
    count = 500
    warm = _idle_clients(settings.port, 20)  # first-use allocations are not per connection
    warm.communicate("", timeout=30)
    time.sleep(0.5)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        clients = _idle_clients(settings.port, count)
        try:
            time.sleep(1.0)  # every session has joined its room
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            clients.communicate("", timeout=30)
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    per_connection = grown / count
    assert per_connection <= IDLE_BYTES_BUDGET, f"{per_connection:.0f} B per idle connection"
