"""Small websocket-client helpers shared by the feed and the send box."""

from __future__ import annotations

import json

import websocket

TOKEN_EXPIRED = 4001  # the backend's close code for a token that reached its `exp`


class ClosedByPeer(Exception):
    """The backend closed the connection; `code` says why (1005 when it gave none)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed by the backend ({code}{': ' + reason if reason else ''})")
        self.code = code


def recv_text(ws: websocket.WebSocket) -> str:
    """The next text frame; ClosedByPeer (with its code) instead of websocket-client's ''."""
    opcode, data = ws.recv_data()
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
        raise ClosedByPeer(code, data[2:].decode("utf-8", "replace"))
    if opcode != websocket.ABNF.OPCODE_TEXT:
        raise ClosedByPeer(1003, "unexpected binary frame")
    return data.decode("utf-8") if isinstance(data, bytes) else str(data)


def refusal_detail(exc: websocket.WebSocketBadStatusException) -> str:
    """The backend's reason for refusing a handshake (`{"error": {"detail": ...}}`)."""
    try:
        return str(json.loads(exc.resp_body or b"{}")["error"]["detail"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {exc.status_code}"


def refusal_code(exc: websocket.WebSocketBadStatusException) -> str | None:
    """The backend's code for refusing a handshake (`{"error": {"code": ...}}`), if any."""
    try:
        return str(json.loads(exc.resp_body or b"{}")["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def describe(exc: BaseException) -> str:
    """A one-line reason for the page and the log, without message contents."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, websocket.WebSocketBadStatusException):
        return f"handshake refused with HTTP {exc.status_code}"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def close_quietly(ws: websocket.WebSocket) -> None:
    """Close politely if still open, and always release the socket.

    websocket-client's close() returns early once the peer has closed, leaving the socket open.
    """
    ws.close(timeout=1)
    ws.shutdown()  # type: ignore[no-untyped-call]  # websocket-client leaves it unannotated
