"""The WebSocket close codes this server sends, and why (documented in docs/protocol.md)."""

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000
    # The server is shutting down (SIGTERM); reconnect to another instance or later.
    GOING_AWAY = 1001
    # A binary frame: this hub carries text only (RFC 6455 §7.4.1).
    UNSUPPORTED_DATA = 1003
    # A text frame that is not UTF-8 (RFC 6455 §8.1).
    INVALID_DATA = 1007
    # Persistent abuse of the rate limit (or, with auth, a refused token).
    POLICY_VIOLATION = 1008
    # A frame larger than MAX_MESSAGE_BYTES.
    MESSAGE_TOO_BIG = 1009
    # An unexpected server error on this connection (logged with its trace); also sent when a
    # keepalive ping goes unanswered for WS_PING_TIMEOUT (backend/native/keepalive.py).
    INTERNAL_ERROR = 1011
    # The connection's outbound queue overflowed: it stopped reading (or its network did).
    SLOW_CONSUMER = 4000
    # The connection's token expired (refresh it in time with an `auth` frame).
    TOKEN_EXPIRED = 4001
    # An admin kicked this connection or its user (POST /admin/.../kick).
    KICKED = 4002
