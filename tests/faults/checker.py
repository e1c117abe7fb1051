"""The checker: the log's guarantees (docs/protocol.md, "Guarantees") over everything that every
client saw and everything history holds, once the faults have settled."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx

from tests.faults.peers import Publisher, Subscriber


def history(base: str, room: str) -> list[dict[str, Any]]:
    """Every stored message of `room`, oldest first, paging with `after` (and `next`)."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = httpx.get(f"{base}/rooms/{room}/messages", params={"after": after, "limit": 500})
        page.raise_for_status()
        batch = page.json()["messages"]
        if not batch:
            return found
        found += batch
        after = batch[-1]["id"]


def check(
    stored: list[dict[str, Any]], publishers: list[Publisher], subscribers: list[Subscriber]
) -> None:
    """Assert every invariant; the message names the first one broken."""
    by_id = {m["id"]: m for m in stored}
    ids = [m["id"] for m in stored]
    assert ids == sorted(set(ids)), "history has duplicate or unordered ids"
    assert ids == list(range(ids[0], ids[0] + len(ids))) if ids else True, "history has holes"

    # 1. An id names one message: whoever saw an id saw the message history keeps under it.
    for sub in subscribers:
        for seen in sub.seen:
            kept = by_id.get(seen.id)
            assert kept is not None, f"id {seen.id} was delivered live but is not in history"
            assert (kept["text"], kept["sender_id"]) == (seen.text, seen.sender_id), (
                f"id {seen.id} named two messages: {seen.text!r} live, {kept['text']!r} stored"
            )

    # 2. No subscriber sees an id twice, and every connection's ids increase.
    for sub in subscribers:
        got = [seen.id for seen in sub.seen]
        assert len(got) == len(set(got)), f"a subscriber of {sub.room} got an id twice"
        per_connection: dict[int, list[int]] = defaultdict(list)
        for seen in sub.seen:
            per_connection[seen.connection].append(seen.id)
        for received in per_connection.values():
            assert received == sorted(received), "ids went backwards on one connection"

    # 3. Recovery is exact or says so: after recovered=true the connection continues at since+1
    #    with no hole up to its last message.
    for sub in subscribers:
        for answer in sub.subscribed:
            if answer.get("recovered") is not True:
                continue
            received = [s.id for s in sub.seen if s.connection == answer["connection"]]
            if not received:
                continue
            assert received == list(range(received[0], received[0] + len(received))), (
                f"recovered=true but the replay of {sub.room} has holes"
            )
            earlier = [s.id for s in sub.seen if s.connection < answer["connection"]]
            if earlier:
                assert received[0] == max(earlier) + 1, "recovered=true but the seam lost ids"

    # 4. Every ack names the stored message, once per ref, and the same id on every resend.
    for pub in publishers:
        stored_refs: dict[str, list[int]] = defaultdict(list)
        for message in stored:
            if message["sender_id"] == pub.welcome["you"]["id"]:
                stored_refs[message["text"]].append(message["id"])
        for ref, acked in pub.log.acks.items():
            text = pub.log.texts[ref]
            assert len(set(acked)) == 1, f"ref {ref} was acked with different ids {acked}"
            assert stored_refs.get(text) == [acked[0]], (
                f"acked {ref} as {acked[0]}, history has {stored_refs.get(text)}"
            )
        for text, copies in stored_refs.items():
            assert len(copies) == 1, f"{text!r} stored {len(copies)} times"
