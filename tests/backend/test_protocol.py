"""The protocol models: what parses, what is refused and with which code."""

from __future__ import annotations

import pytest

from backend.broker import Envelope
from backend.protocol import (
    Message,
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
    envelope = Envelope("r", 7, utc_timestamp(), "ana", "g:0123456789abcdef", "oi", {"k": 1}, "i:1")
    message = server_objects.validate_python(envelope.as_message())
    assert isinstance(message, Message)
    assert (message.sender_id, message.guest) == ("g:0123456789abcdef", True)


@pytest.mark.parametrize(
    "data",
    [
        '{"n": NaN}',
        '{"n": Infinity}',
        '{"n": -Infinity}',
        '{"n": 1e400}',
        '{"n": 18446744073709551616}',
        '{"n": 9007199254740992}',
        '{"n": -9007199254740992}',
        '{"deep": {"list": [1, 2, {"x": NaN}]}}',
        '{"s": "nul\\u0000"}',
        '{"nul\\u0000key": 1}',
        '{"s": "lone \\ud800"}',
        '{"\\udfff": 1}',
    ],
)
def test_data_that_cannot_be_carried_identically_everywhere_is_invalid_data(data: str) -> None:
    raw = '{"type":"publish","room":"r","text":"t","ref":"x","data":' + data + "}"
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(raw)
    assert (refused.value.code, refused.value.ref) == ("invalid_data", "x")


def test_a_lone_surrogate_in_the_text_is_invalid_data_and_names_its_ref() -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame('{"type":"publish","room":"r","text":"a\\udfffb","ref":"x"}')
    assert (refused.value.code, refused.value.ref) == ("invalid_data", "x")
    assert "surrogate" in refused.value.detail
    # A surrogate pair is one character, and welcome.
    frame = parse_client_frame('{"type":"publish","room":"r","text":"\\ud83d\\ude00"}')
    assert isinstance(frame, Publish) and frame.text == "\U0001f600"


def test_a_frame_nested_too_deeply_is_invalid_json_that_says_so() -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame("[" * 5000 + "]" * 5000)
    assert refused.value.code == "invalid_json"
    assert "nested too deeply" in refused.value.detail


def test_the_largest_safe_integers_and_finite_floats_are_data() -> None:
    data = '{"a":9007199254740991,"b":-9007199254740991,"c":1.5e300}'
    frame = parse_client_frame('{"type":"publish","room":"r","text":"t","data":' + data + "}")
    assert isinstance(frame, Publish)
    assert frame.data == {"a": 2**53 - 1, "b": -(2**53 - 1), "c": 1.5e300}


def test_timestamps_are_iso8601_utc_with_milliseconds() -> None:
    stamp = utc_timestamp()
    assert len(stamp) == len("2026-11-26T01:54:18.123Z") and stamp.endswith("Z")


@pytest.mark.parametrize("depth", [300, 600, 900, 5000])
def test_data_nested_too_deeply_says_so_at_every_depth(depth: int) -> None:
    # Between pydantic's parser's limit and Python's, the refusal blamed a lone surrogate.
    data = '{"a":' * depth + "1" + "}" * depth
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame('{"type":"publish","room":"r","text":"t","data":' + data + "}")
    assert refused.value.code == "invalid_json"
    assert "nested too deeply" in refused.value.detail


@pytest.mark.parametrize("value", ['"3"', "true", "3.0", "-1"])
@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"subscribe","room":"r","since":VALUE}',
        '{"type":"subscribe","room":"r","history":VALUE}',
        '{"type":"edit","room":"r","id":VALUE,"text":"t"}',
        '{"type":"delete","room":"r","id":VALUE}',
    ],
)
def test_ids_and_counts_are_json_integers_not_strings_booleans_or_floats(
    frame: str, value: str
) -> None:
    # `true` was read as 1 and "3" as 3: a client bug answered as if it had asked for id 1.
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(frame.replace("VALUE", value))
    assert refused.value.code == "invalid_field"


def test_data_may_nest_64_levels_and_no_more() -> None:
    def frame(depth: int) -> str:
        data = '{"a":' * depth + "1" + "}" * depth
        return '{"type":"publish","room":"r","text":"t","ref":"x","data":' + data + "}"

    assert isinstance(parse_client_frame(frame(64)), Publish)
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(frame(66))
    assert (refused.value.code, refused.value.ref) == ("invalid_data", "x")
    assert "nested deeper than 64" in refused.value.detail
