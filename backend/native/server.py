"""Which WebSocket protocol class `python -m backend` gives uvicorn, configured from settings."""

from __future__ import annotations

import asyncio

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from backend.config import Settings
from backend.native.budgets import SocketBudgets
from backend.native.keepalive import Keepalive
from backend.native.protocol import NativeWebSocket


def native_protocol(settings: Settings) -> type[asyncio.Protocol]:
    """The native protocol bound to these settings (uvicorn builds one per connection).

    With WS_PER_MESSAGE_DEFLATE the hub's pre-framed writes cannot be used (each frame must be
    compressed per connection): uvicorn's own protocol then serves /ws too, through ASGI.
    """
    if settings.ws_per_message_deflate:
        return WebSocketsSansIOProtocol
    attributes = {
        "budgets": SocketBudgets.from_settings(settings),
        "fallback": WebSocketsSansIOProtocol,
        "pinger": Keepalive(settings.ws_ping_interval, settings.ws_ping_timeout),
        "__slots__": (),
    }
    return type("ConfiguredNativeWebSocket", (NativeWebSocket,), attributes)
