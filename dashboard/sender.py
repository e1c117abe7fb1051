"""The send box's transport: one short JSON connection per message, named as the operator chose.

The backend takes the sender's name from the connection (a `sender` field in a frame is
ignored), so a chosen display name needs its own connection; with a token, the sender is the
token's user and the name is ignored. It never subscribes, so other
members see no presence noise, and the feed connection sees the message like everyone else.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import websocket

from dashboard.sockets import close_quietly, refusal_detail

_NO_ANSWER = "No answer from the backend in time; the message may not have been sent."


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """Whether the backend took the message (`id` set) or why not (`detail`)."""

    ok: bool
    detail: str
    id: int | None = None
    # The handshake was refused with 403: the viewer's token is no longer accepted.
    unauthorized: bool = False


def send_message(
    ws_url: str, room: str, name: str, text: str, timeout: float = 5.0, token: str | None = None
) -> SendOutcome:
    """Publish `text` to `room` as `name` (or as `token`'s user); waits for the backend's ack or
    error, never raises."""
    if not text.strip():
        return SendOutcome(False, "Type a message first.")
    query = urlencode({"format": "json", "name": name})
    # A header rather than ?token=: URLs end up in access logs.
    header = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        ws = websocket.create_connection(f"{ws_url}?{query}", timeout=timeout, header=header)
    except websocket.WebSocketBadStatusException as exc:
        detail = f"Backend refused the connection: {refusal_detail(exc)}"
        return SendOutcome(False, detail, unauthorized=exc.status_code == 403)
    except (OSError, websocket.WebSocketException) as exc:
        return SendOutcome(False, f"Backend unavailable ({type(exc).__name__}); not sent.")
    try:
        ref = uuid.uuid4().hex
        ws.send(json.dumps({"type": "publish", "room": room, "text": text, "ref": ref}))
        return _await_answer(ws, ref, time.monotonic() + timeout)
    except websocket.WebSocketTimeoutException:
        return SendOutcome(False, _NO_ANSWER)
    except (OSError, websocket.WebSocketException) as exc:
        return SendOutcome(False, f"Connection lost before the backend answered ({exc!r}).")
    finally:
        close_quietly(ws)


def _await_answer(ws: websocket.WebSocket, ref: str, deadline: float) -> SendOutcome:
    while time.monotonic() < deadline:
        frame = ws.recv()
        if not isinstance(frame, str) or not frame:
            return SendOutcome(False, "The backend closed the connection without an answer.")
        for line in frame.split("\n"):
            obj = json.loads(line)
            if obj.get("type") == "ack" and obj.get("ref") == ref:
                detail = f"Sent to {obj['room']} as message #{obj['id']}."
                return SendOutcome(True, detail, int(obj["id"]))
            # rate_limited carries no ref; any other error on this one-message connection is ours.
            if obj.get("type") == "error" and obj.get("ref") in (ref, None):
                return SendOutcome(False, f"Backend refused the message: {obj['detail']}")
    return SendOutcome(False, _NO_ANSWER)
