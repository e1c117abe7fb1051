"""The one interface the native layer takes from uvicorn: how an upgraded connection is handed to
the class given as `ws`. If a uvicorn release changes it, these fail before anything else does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

REQUEST = (
    b"GET /ws?room=lobby HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)


class Recorder(asyncio.Protocol):
    """Stands where backend.native.NativeWebSocket stands, and writes down what uvicorn does."""

    made: list[Recorder] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.calls: list[tuple[str, Any]] = []
        Recorder.made.append(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.calls.append(("connection_made", transport))

    def data_received(self, data: bytes) -> None:
        self.calls.append(("data_received", data))


class Transport(asyncio.Transport):
    """A socket that records which protocol owns it."""

    def __init__(self) -> None:
        super().__init__()
        self.protocol: asyncio.BaseProtocol | None = None
        self.written: list[bytes] = []

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8765)}.get(
            name, default
        )

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self.protocol is not None
        return self.protocol

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return False


async def _app(scope: Any, receive: Any, send: Any) -> None:  # never called: the upgrade is ours
    raise AssertionError("the HTTP protocol must not run the app for an upgrade")


@pytest.mark.parametrize("http", [HttpToolsProtocol, H11Protocol], ids=["httptools", "h11"])
def test_uvicorn_hands_an_upgrade_to_the_ws_class_with_the_request_and_the_socket(
    http: type[HttpToolsProtocol] | type[H11Protocol],
) -> None:
    asyncio.run(_upgrade(http))


async def _upgrade(http: type[HttpToolsProtocol] | type[H11Protocol]) -> None:
    Recorder.made.clear()
    config = uvicorn.Config(_app, ws=Recorder, lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    protocol = http(config=config, server_state=state, app_state={})
    transport = Transport()
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    protocol.data_received(REQUEST)

    [made] = Recorder.made
    # Built with exactly these keywords (NativeWebSocket.__init__ takes them by name)...
    assert set(made.kwargs) == {"config", "server_state", "app_state"}
    assert made.kwargs["config"] is config and made.kwargs["server_state"] is state
    # ...given the socket, then the request (the path, the query and every header, re-encoded)...
    assert [name for name, _ in made.calls] == ["connection_made", "data_received"]
    assert made.calls[0][1] is transport
    head = made.calls[1][1]
    assert head.startswith(b"GET /ws?room=lobby HTTP/1.1\r\n") and head.endswith(b"\r\n\r\n")
    assert b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n" in head
    # ...and then owns the socket: every later byte goes to it, none to the HTTP protocol.
    assert transport.get_protocol() is made
    assert protocol not in state.connections
    assert transport.written == []  # uvicorn answered nothing itself


def test_the_product_gives_uvicorn_the_native_class_for_ws() -> None:
    from backend.config import Settings
    from backend.native import NativeWebSocket, native_protocol

    chosen = native_protocol(Settings(database_url="none"))
    assert issubclass(chosen, NativeWebSocket)
    # Compression needs per-connection frames: uvicorn's own protocol (ASGI) serves it instead.
    assert not issubclass(
        native_protocol(Settings(database_url="none", ws_per_message_deflate=True)),
        NativeWebSocket,
    )
