"""Small websocket-client helpers shared by the feed and the send box."""

from __future__ import annotations

import websocket


def close_quietly(ws: websocket.WebSocket) -> None:
    """Close politely if still open, and always release the socket.

    websocket-client's close() returns early once the peer has closed, leaving the socket open.
    """
    ws.close(timeout=1)
    ws.shutdown()  # type: ignore[no-untyped-call]  # websocket-client leaves it unannotated
