"""The send box's transport against a real backend: delivered, or the backend's reason shown."""

from __future__ import annotations

from dashboard.sender import send_message
from tests.support.clients import JsonClient, assert_silent
from tests.support.server import ServerProcess, free_port


def test_send_message_reaches_the_other_members_of_the_room(server: ServerProcess) -> None:
    listener = JsonClient(server.ws, "name=frank&room=support")
    try:
        outcome = send_message(server.ws, "support", "operator", "hello support")
        message = listener.next_of("message")
    finally:
        listener.close()
    assert outcome.ok and outcome.id == message["id"]
    assert (message["room"], message["sender"], message["text"]) == (
        "support",
        "operator",
        "hello support",
    )


def test_send_message_shows_the_backends_refusal_of_a_bad_room(server: ServerProcess) -> None:
    outcome = send_message(server.ws, "no spaces allowed", "operator", "hi")
    assert not outcome.ok
    assert "room must match" in outcome.detail


def test_send_message_shows_the_backends_refusal_of_a_bad_name(server: ServerProcess) -> None:
    outcome = send_message(server.ws, "lobby", "x" * 40, "hi")
    assert not outcome.ok
    assert "name must be 1-32 characters" in outcome.detail


def test_send_message_refuses_an_empty_text_without_sending(server: ServerProcess) -> None:
    listener = JsonClient(server.ws, "name=gina&room=quiet")
    listener.next_of("subscribed")
    try:
        outcome = send_message(server.ws, "quiet", "operator", "   ")
        assert_silent(listener.ws)
    finally:
        listener.close()
    assert not outcome.ok and outcome.detail == "Type a message first."


def test_send_message_says_the_backend_is_unavailable_when_it_is(server: ServerProcess) -> None:
    outcome = send_message(f"ws://127.0.0.1:{free_port()}/ws", "lobby", "operator", "hi")
    assert not outcome.ok
    assert outcome.detail.startswith("Backend unavailable")
