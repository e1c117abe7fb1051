"""Auth helpers for tests: the settings of a secured server, tokens signed here, close codes."""

from __future__ import annotations

import time
import warnings
from typing import Any

import httpx
import jwt
import pytest
import websocket

from tests.support.server import ServerProcess

# Random-looking, as JWT_SECRET must be (the server refuses repetitive secrets).
SECRET = "tst-7Qk2vN9xLr4Bw8ZpHs3Jd6Fm1Yc5Gt0Ae_Ku-Wn2Xo9Rb4Vl7Sj"
OTHER_SECRET = "oth-Hq3Zx8Mv1Nc6Bt4Lp9Rw2Ks7Dj5Fg0Ya_Ue-Io3Pk8Wm6Qn1Er"
# A server that requires a token, with a private room and a low login limit for the tests.
SECURED = {
    "AUTH_REQUIRED": "true",
    "JWT_SECRET": SECRET,
    "AUTH_TIMEOUT_SECONDS": "1",
    "PRIVATE_ROOMS": '{"staff": {"users": ["ana"], "roles": ["admin"]}}',
}


def sign(
    subject: str,
    role: str = "user",
    rooms: list[str] | None = None,
    expires_in: float = 600,
    secret: str = SECRET,
    algorithm: str = "HS256",
    service: bool = True,
    **extra: Any,
) -> str:
    """A token as the server's CLI would mint it: a service token (claim `svc`), for a name
    that has no account (or, with other arguments, as a forger would). Registered users' own
    tokens come from `login` (they carry `uid` and `ver`)."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "iat": now, "exp": now + expires_in, "role": role}
    if service:
        claims["svc"] = True
    if rooms is not None:
        claims["rooms"] = rooms
    claims.update(extra)
    with warnings.catch_warnings():
        # Forgers use short keys too: PyJWT's key-length warning is not what these tests test.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, secret, algorithm=algorithm)


def unsigned(subject: str, role: str = "admin") -> str:
    """An `alg: none` token: header and claims, no signature."""
    now = int(time.time())
    claims = {"sub": subject, "iat": now, "exp": now + 600, "role": role}
    return jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]


def close_code(ws: websocket.WebSocket) -> int:
    """Read until the server's close frame; return its code."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big")


def refused_status(url: str, **kwargs: Any) -> int:
    """The HTTP status of a refused WebSocket handshake."""
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=5, **kwargs)
    return int(refused.value.status_code)


def register(server: ServerProcess, username: str, password: str) -> httpx.Response:
    return httpx.post(
        server.http + "/auth/register", json={"username": username, "password": password}
    )


def login(server: ServerProcess, username: str, password: str) -> httpx.Response:
    return httpx.post(
        server.http + "/auth/token", data={"username": username, "password": password}
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
