"""Edits, deletes and typing notices reach subscribers on every instance."""

from __future__ import annotations

from tests.backend.test_cluster import Cluster, cluster  # noqa: F401 - the fixture
from tests.support.clients import JsonClient


def test_an_edit_and_a_delete_on_one_instance_reach_a_subscriber_on_the_other(
    cluster: Cluster,  # noqa: F811 - the imported fixture
) -> None:
    a, b = cluster
    reader = JsonClient(b.ws, "name=Bob&room=amend")
    reader.next_of("subscribed")
    author = JsonClient(a.ws, "name=Ana&room=amend")
    author.next_of("subscribed")
    author.send(type="publish", room="amend", text="draft", ref="m1")
    target = author.next_of("ack")["id"]
    author.send(type="edit", room="amend", id=target, text="final", ref="e1")
    author.next_of("ack")
    author.send(type="delete", room="amend", id=target, ref="d1")
    author.next_of("ack")

    seen = [reader.next(skip=("presence",)) for _ in range(3)]
    assert [(o["type"], o["id"]) for o in seen] == [
        ("message", target),
        ("edited", target + 1),
        ("deleted", target + 2),
    ]
    assert seen[1]["text"] == "final" and seen[2]["target"] == target


def test_a_typing_notice_reaches_the_room_on_the_other_instance_and_is_not_stored(
    cluster: Cluster,  # noqa: F811 - the imported fixture
) -> None:
    a, b = cluster
    there = JsonClient(b.ws, "name=Bob&room=typing")
    there.next_of("subscribed")
    typist = JsonClient(a.ws, "name=Ana&room=typing")
    typist.next_of("subscribed")
    here = JsonClient(a.ws, "name=Cy&room=typing")
    here.next_of("subscribed")
    typist.send(type="typing", room="typing")
    for reader in (there, here):
        notice = reader.next_of("typing")
        assert (notice["name"], notice["id"]) == ("Ana", typist.welcome["you"]["id"])
    # Not an entry of the log: the next message still gets the room's first id.
    typist.send(type="publish", room="typing", text="done", ref="m1")
    assert typist.next_of("ack")["id"] == 1
    assert there.next_of("message")["id"] == 1
