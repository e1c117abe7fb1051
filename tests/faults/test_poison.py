"""One author's hostile data fails only that author: refused at the protocol boundary with
`invalid_data`, the connection kept, and a publisher beside it acked every time; the room
stays readable live and from history, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from tests.support.clients import JsonClient
from tests.support.server import ServerFactory

FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"}
POISON = [
    '{"n": NaN}',
    '{"n": Infinity}',
    '{"n": -1e400}',
    '{"n": 18446744073709551616}',
    '{"n": -9223372036854775809}',
    '{"n": 9007199254740993}',
    '{"list": [1, {"deeper": [NaN]}]}',
    '{"s": "a\\u0000b"}',
]


def test_hostile_data_fails_only_its_author_and_never_poisons_the_room(
    make_server: ServerFactory, database_url: str
) -> None:
    server = make_server({**FAST, "DATABASE_URL": database_url})
    room = "poisoned"
    attacker = JsonClient(server.ws)
    victim = JsonClient(server.ws)
    watcher = JsonClient(server.ws, f"room={room}")
    watcher.next_of("subscribed")

    def attack() -> None:
        for round_ in range(10):
            for n, data in enumerate(POISON):
                frame = f'{{"type":"publish","room":"{room}","text":"x","ref":"a{round_}-{n}",'
                attacker.ws.send(frame + f'"data":{data}}}')

    thread = threading.Thread(target=attack)
    thread.start()
    for n in range(80):
        victim.send(type="publish", room=room, text=f"v{n}", ref=f"v{n}", data={"n": n})
    thread.join()
    acks = [victim.next_of("ack") for _ in range(80)]
    assert [a["ref"] for a in acks] == [f"v{n}" for n in range(80)]
    refusals = [attacker.next_of("error") for _ in range(10 * len(POISON))]
    assert {r["code"] for r in refusals} == {"invalid_data"}
    # The attacker's connection is kept: it can still publish something valid.
    attacker.send(type="publish", room=room, text="fine now", ref="ok")
    assert attacker.next_of("ack")["ref"] == "ok"

    live = [watcher.next_of("message")["text"] for _ in range(81)]
    assert live == [f"v{n}" for n in range(80)] + ["fine now"]
    late = JsonClient(server.ws)
    late.send(type="subscribe", room=room, history=100)
    late.next_of("subscribed")
    assert [late.next_of("message")["text"] for _ in range(81)] == live
    late.send(type="subscribe", room=room, since=acks[40]["id"])
    assert late.next_of("subscribed")["recovered"] is True
