"""The JSON wire protocol: what clients may send, what the server answers (docs/protocol.md).

Client frames are validated with Pydantic (a discriminated union on `type`). Server objects are
modelled here too, for the published JSON Schema and for tests, but the hot path encodes them as
plain dicts with orjson: building a model per delivery would cost more than the delivery itself.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from backend.auth.names import ROOM_PATTERN, RoomName  # the one room rule (whole string)

__all__ = ["ROOM_PATTERN", "RoomName"]  # re-exported: routes and tests import them from here


def _printable_ref(ref: str) -> str:
    # Refs are stored and indexed with the message: no control characters (NUL in particular,
    # which PostgreSQL's text cannot hold).
    if not ref.isprintable():
        raise ValueError("must be printable (no control characters)")
    return ref


Ref = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_printable_ref)]


# A lone surrogate (from a "\ud800" escape): no UTF-8 wire or database can carry it. Frames
# never hold one (pydantic's JSON parser refuses it); HTTP bodies, parsed by Python's, can.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_fault(text: str) -> str | None:
    """Why `text` cannot be stored identically in every database, if it cannot. PostgreSQL's
    text type cannot hold U+0000; refusing it everywhere keeps behaviour the same whichever
    database is behind the hub."""
    if "\x00" in text:
        return "must not contain NUL (U+0000)"
    if _SURROGATE.search(text):
        return "must be valid Unicode (no lone surrogate)"
    return None


def _storable_text(text: str) -> str:
    if fault := _text_fault(text):
        raise ValueError(fault)
    return text


MessageText = Annotated[str, AfterValidator(_storable_text)]

# The integers every part carries exactly: a browser's Number (IEEE-754 double) is exact up to
# 2**53 - 1; orjson, SQLite and PostgreSQL all go further, so this is the bound that binds.
SAFE_INTEGER = 2**53 - 1


class UnstorableData(ValueError):
    """`data` holding what cannot be stored, encoded and delivered identically everywhere."""


# Nesting `data` may have: orjson (every answer, history, the ref digest) encodes at most ~254
# levels, and Python's json (HTTP bodies) reads ~990: data deeper than orjson goes was stored
# from the HTTP publish and then failed every history read and every replay of its room.
MAX_DATA_DEPTH = 64


def _check_value(value: Any, path: str, depth: int = 0) -> None:
    if isinstance(value, bool) or value is None:
        return
    if depth > MAX_DATA_DEPTH:
        raise UnstorableData(f"{path}: nested deeper than {MAX_DATA_DEPTH} levels")
    if isinstance(value, int):
        if not -SAFE_INTEGER <= value <= SAFE_INTEGER:
            raise UnstorableData(f"{path}: integers must be within ±(2**53 - 1)")
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise UnstorableData(f"{path}: numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, str):
        if fault := _text_fault(value):
            raise UnstorableData(f"{path}: strings {fault}")
    elif isinstance(value, dict):
        for key, item in value.items():
            if fault := _text_fault(key):
                raise UnstorableData(f"{path}: keys {fault}")
            _check_value(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _check_value(item, f"{path}[{n}]", depth + 1)


def _storable(data: dict[str, Any]) -> dict[str, Any]:
    # One rule at the protocol boundary, so that no author's data can fail a storage batch,
    # become `null` on the wire (orjson writes NaN as null) or fail to encode for everyone.
    _check_value(data, "data")
    return data


MessageData = Annotated[dict[str, Any], AfterValidator(_storable)]


class _Frame(BaseModel):
    # Unknown fields are ignored, not refused: newer clients may send fields this server does not
    # know yet, and a client-supplied `sender` must never be taken (the server decides who spoke).
    model_config = ConfigDict(extra="ignore", frozen=True)


class Subscribe(_Frame):
    type: Literal["subscribe"]
    room: RoomName
    # Integers are JSON integers (strict): "3", true and 3.0 are refused, not read as 3 and 1.
    since: int | None = Field(
        default=None,
        ge=0,
        le=2**63 - 1,
        strict=True,
        description="Replay every message after this id",
    )
    history: int = Field(
        default=0, ge=0, le=500, strict=True, description="Send the last N messages first"
    )
    epoch: str | None = Field(
        default=None,
        max_length=64,
        description="The `epoch` of the `subscribed` that `since` comes from; another epoch "
        "answers recovered=false",
    )
    ref: Ref | None = Field(default=None, description="Echoed in `subscribed` (or the error)")


class Unsubscribe(_Frame):
    type: Literal["unsubscribe"]
    room: RoomName
    ref: Ref | None = Field(default=None, description="Echoed in `unsubscribed` (or the error)")


class Publish(_Frame):
    type: Literal["publish"]
    room: RoomName
    text: MessageText
    data: MessageData | None = None
    ref: Ref | None = None


class Edit(_Frame):
    """Replace the text of one's own message (or any, for an admin)."""

    type: Literal["edit"]
    room: RoomName
    id: int = Field(ge=1, le=2**63 - 1, strict=True, description="The message to edit")
    text: MessageText
    ref: Ref | None = None


class Delete(_Frame):
    """Delete one's own message (or any, for an admin): its text and data are removed."""

    type: Literal["delete"]
    room: RoomName
    id: int = Field(ge=1, le=2**63 - 1, strict=True, description="The message to delete")
    ref: Ref | None = None


class Typing(_Frame):
    """The sender is typing in `room`: shown to the others for a few seconds, never stored."""

    type: Literal["typing"]
    room: RoomName


class Ping(_Frame):
    type: Literal["ping"]


class Auth(_Frame):
    """First frame when the handshake carried no token (AUTH_REQUIRED), or a token refresh."""

    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=8192, repr=False)


AnyClientFrame = Subscribe | Unsubscribe | Publish | Edit | Delete | Typing | Ping | Auth
ClientFrame = Annotated[AnyClientFrame, Field(discriminator="type")]
CLIENT_TYPES = ("subscribe", "unsubscribe", "publish", "edit", "delete", "typing", "ping", "auth")


class Message(_Frame):
    type: Literal["message"] = "message"
    id: int = Field(description="Names this message forever; the room's previous id plus one")
    room: str
    sender: str = Field(description="Display name (not unique: decide who sent it by sender_id)")
    sender_id: str = Field(description="u:<user id> for registered users, g:<hex> for guests")
    guest: bool = Field(description="True when the sender is not a registered user")
    text: str
    data: dict[str, Any] | None = None
    ts: str = Field(description="ISO-8601 UTC, millisecond precision")
    edited_at: str | None = Field(default=None, description="Present once the text was edited")
    deleted: bool | None = Field(default=None, description="Present (true) once deleted")


class Edited(_Frame):
    """Message `target` now has `text` (a log entry: `id` is its place in the room's log)."""

    type: Literal["edited"] = "edited"
    id: int
    room: str
    target: int
    sender: str
    sender_id: str = Field(description="Who edited it: the author, or an admin")
    guest: bool
    text: str
    ts: str


class Deleted(_Frame):
    """Message `target` was deleted (a log entry: `id` is its place in the room's log)."""

    type: Literal["deleted"] = "deleted"
    id: int
    room: str
    target: int
    sender: str
    sender_id: str = Field(description="Who deleted it: the author, or an admin")
    guest: bool
    ts: str


class TypingNotice(_Frame):
    """Someone is typing in `room`; forget it after a few seconds without another."""

    type: Literal["typing"] = "typing"
    room: str
    name: str
    id: str
    guest: bool


class Ack(_Frame):
    type: Literal["ack"] = "ack"
    ref: str | None
    id: int
    room: str


class You(_Frame):
    id: str = Field(description="Your sender_id: messages with it are yours")
    name: str
    guest: bool


class Limits(_Frame):
    message_bytes: int
    rate_per_second: float
    rate_burst: int
    rooms: int


class Welcome(_Frame):
    type: Literal["welcome"] = "welcome"
    name: str
    rooms: list[str]
    you: You
    limits: Limits


class RosterEntry(_Frame):
    id: str
    name: str
    guest: bool


class Subscribed(_Frame):
    type: Literal["subscribed"] = "subscribed"
    room: str
    count: int = Field(description="Members of the room now, this connection included")
    members: list[str] = Field(description="Names of the other members (at most 200)")
    roster: list[RosterEntry] = Field(description="The same members with their ids")
    epoch: str | None = Field(
        default=None, description="Names the room's log; send it back with `since`"
    )
    recovered: bool | None = Field(
        default=None,
        description="With `since`: true when every message after it follows, in order, once; "
        "false when that cannot be promised (see `reason`): reload history instead",
    )
    reason: (
        Literal[
            "purged", "too_far_behind", "unknown_offset", "epoch_changed", "storage_unavailable"
        ]
        | None
    ) = None
    ref: str | None = Field(default=None, description="The `subscribe` frame's ref, if any")


class Unsubscribed(_Frame):
    type: Literal["unsubscribed"] = "unsubscribed"
    room: str
    ref: str | None = None


class Presence(_Frame):
    type: Literal["presence"] = "presence"
    room: str
    event: Literal["join", "leave"]
    name: str
    id: str
    guest: bool
    count: int


class Error(_Frame):
    type: Literal["error"] = "error"
    code: str
    detail: str
    ref: str | None = None


class Pong(_Frame):
    type: Literal["pong"] = "pong"


class Authenticated(_Frame):
    """The answer to a token refresh (`auth` frame on an authenticated connection)."""

    type: Literal["authenticated"] = "authenticated"
    name: str
    expires_in: int = Field(description="Seconds until the new token expires")


ServerObject = Annotated[
    Message
    | Ack
    | Welcome
    | Subscribed
    | Unsubscribed
    | Presence
    | Error
    | Pong
    | Authenticated
    | Edited
    | Deleted
    | TypingNotice,
    Field(discriminator="type"),
]

client_frames: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
server_objects: TypeAdapter[ServerObject] = TypeAdapter(ServerObject)


class ProtocolError(Exception):
    """A client frame that cannot be acted on; becomes an `error` object, the connection stays."""

    def __init__(self, code: str, detail: str, ref: str | None = None) -> None:
        # Both may quote the frame, which JSON lets hold lone surrogates ("\ud800") that no
        # answer can be encoded with: the detail shows them escaped, a ref that has one is not
        # a ref any frame can be answered with, so none is given.
        detail = detail.encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.ref = ref if ref is None or _encodable(ref) else None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_client_frame(raw: str) -> AnyClientFrame:
    """Validate one client frame, or raise ProtocolError with a stable code and readable detail."""
    try:
        return client_frames.validate_json(raw)
    except ValidationError as exc:
        raise _explain(raw, exc) from None


def _explain(raw: str, exc: ValidationError) -> ProtocolError:
    try:
        # The standard library's parser, not orjson: it reads NaN, Infinity and 1e400 as
        # pydantic did, so a frame refused for its data still names its ref.
        value = json.loads(raw)
    except ValueError:
        return ProtocolError("invalid_json", "frame is not valid JSON")
    except RecursionError:
        return ProtocolError("invalid_json", "frame is nested too deeply to be read")
    if not isinstance(value, dict):
        return ProtocolError("invalid_frame", "frame must be a JSON object")
    ref = value.get("ref") if isinstance(value.get("ref"), str) else None
    kind = value.get("type")
    if kind is None:
        return ProtocolError("invalid_frame", "frame has no 'type'", ref)
    if kind not in CLIENT_TYPES:
        known = ", ".join(CLIENT_TYPES)
        detail = f"unknown type {kind!r}; expected one of: {known}"
        return ProtocolError("unknown_type", detail, ref)
    first = exc.errors()[0]
    if first["type"] == "json_invalid" and "recursion limit" in first["msg"]:
        # Deeper than pydantic's parser goes, not than Python's (about 500 to 990 levels).
        return ProtocolError("invalid_json", "frame is nested too deeply to be read", ref)
    if first["type"] == "json_invalid":
        # JSON that Python reads but pydantic refuses: a lone surrogate escape (\ud800), which
        # no UTF-8 wire or database can carry.
        detail = "strings must be valid Unicode: a lone surrogate escape cannot be stored"
        return ProtocolError("invalid_data", detail, ref)
    field = ".".join(str(part) for part in first["loc"][1:]) or "frame"
    if isinstance(first.get("ctx", {}).get("error"), UnstorableData):
        return ProtocolError("invalid_data", str(first["ctx"]["error"]), ref)
    if field == "room" and first["type"] == "string_pattern_mismatch":
        return ProtocolError("invalid_room", "room must match " + ROOM_PATTERN, ref)
    return ProtocolError("invalid_field", f"{field}: {first['msg']}", ref)


def utc_timestamp(at: datetime | None = None) -> str:
    """`at` (default: now) as ISO-8601 UTC with milliseconds, e.g. 2026-11-26T01:54:18.123Z:
    the one timestamp format of the wire, the database and the logs."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode(obj: dict[str, Any]) -> str:
    """One server object as one line of JSON (frames join several with '\\n')."""
    return orjson.dumps(obj).decode()


def json_schema() -> dict[str, Any]:
    """The protocol as JSON Schema, generated from the models above (served over HTTP)."""
    return {
        "client": client_frames.json_schema(),
        "server": server_objects.json_schema(),
    }
