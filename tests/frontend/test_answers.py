"""Answers are matched to frames by ref, never by order; recovery sends the log's epoch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.frontend.pages import ChatPage, Opener
from tests.support.clients import publish_acked
from tests.support.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]
BACK_WITHIN_MS = 30_000

# Records every frame the page sends; `__hold` keeps publishes from reaching the server, so the
# test can answer them itself, in the order it likes.
RECORD_FRAMES = """
window.__sent = [];
window.__hold = false;
const realSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  window.__sent.push(JSON.parse(data));
  if (window.__hold && JSON.parse(data).type === "publish") return;
  return realSend.call(this, data);
};
"""


def sent(chat: ChatPage) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = chat.page.evaluate("window.__sent")
    return frames


def answer(chat: ChatPage, *objects: dict[str, Any]) -> None:
    """Hand the page server objects, as if they had arrived in one frame."""
    chat.page.evaluate(
        """(objects) => window.desafio.chat.socket.dispatchEvent(
             new CustomEvent("objects", {detail: {objects}}))""",
        list(objects),
    )


def test_an_error_overtaking_an_earlier_ack_fails_the_right_message(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "overtake", init_script=RECORD_FRAMES)
    ana.page.evaluate("window.__hold = true")
    ana.say("first")
    ana.say("second")
    first, second = (f for f in sent(ana) if f["type"] == "publish")
    # The error about the second arrives before the first's ack.
    answer(
        ana,
        {"type": "error", "code": "rate_limited", "detail": "slow down", "ref": second["ref"]},
        {"type": "ack", "ref": first["ref"], "id": 1, "room": "overtake"},
    )
    expect(ana.messages.nth(0)).to_have_attribute("data-state", "sent")
    expect(ana.messages.nth(1)).to_have_attribute("data-state", "failed")
    expect(ana.messages.nth(1).get_by_role("button", name="Retry")).to_be_visible()


def test_every_frame_that_needs_an_answer_carries_a_ref(
    server: ServerProcess, open_chat: Opener
) -> None:
    ana = open_chat(server.http, "Ana", "refs-one", init_script=RECORD_FRAMES)
    ana.say("hello")
    expect(ana.messages.first).to_have_attribute("data-state", "sent")
    ana.join_room("refs-two")
    expect(ana.page.locator("#roomName")).to_have_text("refs-two")
    ana.page.get_by_role("button", name="Leave #refs-one").click()
    ana.page.wait_for_function("window.__sent.some((f) => f.type === 'unsubscribe')")
    answered = [f for f in sent(ana) if f["type"] in ("subscribe", "unsubscribe", "publish")]
    assert {f["type"] for f in answered} == {"subscribe", "unsubscribe", "publish"}
    refs = [f.get("ref") for f in answered]
    assert all(refs) and len(set(refs)) == len(refs), json.dumps(answered)


def test_recovery_sends_the_epoch_and_a_replaced_history_is_said_and_reloaded(
    make_server: ServerFactory, open_chat: Opener, tmp_path: Path
) -> None:
    backend = make_server({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/one.db"})
    # Joined while the room is empty: its log (and epoch) begins with the first message.
    ana = open_chat(backend.http, "Ana", "epochs", init_script=RECORD_FRAMES)
    publish_acked(backend.ws, "epochs", name="Bruno", texts=["from the first log"])
    expect(ana.texts).to_have_text(["from the first log"])
    ana.page.wait_for_function("window.desafio.chat.roomState('epochs').epoch !== null")
    epoch = ana.page.evaluate("window.desafio.chat.roomState('epochs').epoch")

    # The same address, another database: ids of the old log mean nothing there.
    backend.stop()
    expect(ana.status).to_have_attribute("data-state", "reconnecting")
    ana.page.context.set_offline(True)
    other = make_server(
        {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/two.db"}, port=backend.port
    )
    publish_acked(other.ws, "epochs", name="Bruno", texts=["new 1", "new 2"])
    ana.page.context.set_offline(False)
    expect(ana.status).to_have_attribute("data-state", "open", timeout=BACK_WITHIN_MS)

    # "open" is the socket; the resuming subscribe goes out only after the server's welcome,
    # and the notice only after its answer: wait for that before reading what was sent.
    expect(ana.notice).to_contain_text("could not be recovered")
    resumed = [f for f in sent(ana) if f["type"] == "subscribe" and f.get("epoch")]
    assert resumed and resumed[-1]["epoch"] == epoch
    expect(ana.page.locator("#messages .gap")).to_have_count(1)
    expect(ana.texts).to_have_text(["from the first log", "new 1", "new 2"])
