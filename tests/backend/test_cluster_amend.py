"""Edits and deletes reach subscribers on every instance, in order with the room's messages."""

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
