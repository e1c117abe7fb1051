"""The protocol models: what parses, what is refused and with which code."""

from __future__ import annotations

import pytest

from backend.broker import Envelope
from backend.protocol import (
    Ping,
    ProtocolError,
    Publish,
    Subscribe,
    parse_client_frame,
    server_objects,
    utc_timestamp,
)


def test_each_client_frame_type_parses_into_its_model() -> None:
    assert parse_client_frame('{"type":"subscribe","room":"a.b-c_1"}') == Subscribe(
        type="subscribe", room="a.b-c_1"
    )
    publish = parse_client_frame(
        '{"type":"publish","room":"r","text":"t","data":{"x":1},"ref":"9"}'
    )
    assert isinstance(publish, Publish)
    assert (publish.text, publish.data, publish.ref) == ("t", {"x": 1}, "9")
    assert isinstance(parse_client_frame('{"type":"ping"}'), Ping)


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    frame = parse_client_frame('{"type":"publish","room":"r","text":"t","sender":"admin","v":2}')
    assert not hasattr(frame, "sender")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{", "invalid_json"),
        ("null", "invalid_frame"),
        ('{"room":"r"}', "invalid_frame"),
        ('{"type":"PUBLISH"}', "unknown_type"),
        ('{"type":"publish","room":"r","text":null}', "invalid_field"),
        ('{"type":"publish","room":"r","text":"t","ref":"' + "r" * 65 + '"}', "invalid_field"),
        ('{"type":"subscribe","room":"ümlaut"}', "invalid_room"),
        ('{"type":"subscribe","room":["r"]}', "invalid_field"),
    ],
)
def test_malformed_frames_raise_a_protocol_error_with_a_stable_code(raw: str, code: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(raw)
    assert refused.value.code == code
    assert refused.value.detail


def test_a_message_envelope_is_a_valid_server_message_object() -> None:
    envelope = Envelope("r", 7, utc_timestamp(), "ana", "oi", {"k": "v"}, "i:1")
    message = server_objects.validate_python(envelope.as_message())
    assert message.type == "message"


def test_timestamps_are_iso8601_utc_with_milliseconds() -> None:
    stamp = utc_timestamp()
    assert len(stamp) == len("2026-11-26T01:54:18.123Z") and stamp.endswith("Z")
