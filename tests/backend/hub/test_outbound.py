"""Frames built by the hub are exactly what the websockets library would send."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from backend.hub.outbound import COALESCE_BYTES, Outgoing, join_json, text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_text_frame_matches_the_websockets_serializer(size: int) -> None:
    payload = b"a" * size
    assert text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False)


def test_outgoing_builds_its_frame_once() -> None:
    item = Outgoing(b"shared")
    assert item.frame is item.frame


def test_a_json_backlog_is_coalesced_into_frames_no_larger_than_the_limit() -> None:
    batch = [Outgoing(b"x" * 1000) for _ in range(200)]
    payloads = join_json(batch)
    assert all(len(p) <= COALESCE_BYTES for p in payloads)
    assert b"\n".join(payloads).split(b"\n") == [b"x" * 1000] * 200


def test_an_object_larger_than_the_limit_goes_alone() -> None:
    big = Outgoing(b"y" * (COALESCE_BYTES + 1))
    assert join_json([Outgoing(b"a"), big, Outgoing(b"b")]) == [b"a", big.data, b"b"]
