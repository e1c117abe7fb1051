"""A closed connection's objects are freed by reference counting, at once: none of them waits
in a reference cycle for a full collection (which, at 10,000 connections, pauses everyone).

The server runs in a thread of the test process, configured as `python -m backend` runs it
(backend.__main__.server_config), so that the test can look at its heap."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
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
def in_process() -> Iterator[tuple[str, Settings]]:
    settings = Settings(database_url="none", host="127.0.0.1", port=free_port(),
                        log_level="WARNING", ws_ping_interval=0)  # fmt: skip
    app = create_app(settings)
    server = ThreadServer(server_config(settings, app))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
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
