"""The hub-native connection layer: `/ws` on websockets' Sans-I/O protocol, plugged into uvicorn
through its `ws` option (docs/architecture.md#the-native-connection-layer)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from backend.native.handshake import EXTENSION
from backend.native.protocol import NativeWebSocket
from backend.native.server import native_protocol
from backend.native.session import Inbound


def find_protocol(scope: MutableMapping[str, Any]) -> NativeWebSocket | None:
    """The native protocol serving this handshake, or None under another ASGI server."""
    extensions = scope.get("extensions")
    entry = extensions.get(EXTENSION) if isinstance(extensions, dict) else None
    protocol = entry.get("protocol") if isinstance(entry, dict) else None
    return protocol if isinstance(protocol, NativeWebSocket) else None


__all__ = ["Inbound", "NativeWebSocket", "find_protocol", "native_protocol"]
