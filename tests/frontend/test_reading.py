"""Reading a long conversation: day headings, older history on scroll, a DOM that stays small."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.frontend.pages import Opener
from tests.support.clients import JsonClient, publish_acked
from tests.support.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]
log = logging.getLogger(__name__)
FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"}
# The bound for typing and sending with 5,000 messages received in the session.
FAST_ENOUGH_MS = 50


def stamp(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_messages_from_earlier_days_are_grouped_under_day_headings(
    make_server: ServerFactory, open_chat: Opener, tmp_path: Path
) -> None:
    db = tmp_path / "days.db"
    backend = make_server({"DATABASE_URL": f"sqlite+aiosqlite:///{db}"})
    # Three days ago, as if the room had been used then (the server stamps only new messages).
    old = datetime.now(UTC).replace(hour=12, minute=0) - timedelta(days=3)
    with sqlite3.connect(db) as conn:
        for n in (1, 2):
            conn.execute(
                "INSERT INTO messages (room, id, sender, sender_id, text, ts, kind, deleted)"
                " VALUES ('days', ?, 'Bruno', 'g:00000000000000bb', ?, ?, 'message', 0)",
                (n, f"old {n}", stamp(old + timedelta(minutes=n))),
            )
        conn.execute("INSERT INTO room_log (room, last_id) VALUES ('days', 2)")
    publish_acked(backend.ws, "days", name="Bruno", texts=["today"])

    ana = open_chat(backend.http, "Ana", "days")
    expect(ana.texts).to_have_text(["old 1", "old 2", "today"])
    headings = ana.page.locator("#messages .day")
    expect(headings).to_have_count(2)
    long_ago = old.astimezone().strftime("%B %-d")  # the browser runs in the same time zone
    expect(headings.first).to_contain_text(long_ago)
    expect(headings.nth(1)).to_have_text("Today")
    # The second old message continues the first: no heading, no repeated name.
    expect(ana.messages.nth(1).locator(".day")).to_have_count(0)


def test_scrolling_to_the_top_loads_older_messages_without_moving_the_reader(
    make_server: ServerFactory, open_chat: Opener
) -> None:
    backend = make_server(FAST)
    publish_acked(backend.ws, "back", name="Bruno", texts=[f"m{n}" for n in range(1, 131)])
    ana = open_chat(backend.http, "Ana", "back", height=600)
    expect(ana.texts).to_have_count(50)
    expect(ana.texts.first).to_have_text("m81")
    log = ana.page.locator("#messageLog")
    log.evaluate("el => { el.scrollTop = 0; }")
    expect(ana.texts).to_have_count(100)
    expect(ana.texts.first).to_have_text("m31")
    # What was at the top is still in view: the older page went above it.
    expect(ana.page.locator("#messages .text", has_text="m81").first).to_be_in_viewport()
    log.evaluate("el => { el.scrollTop = 0; }")
    expect(ana.texts).to_have_count(130)
    ids = [int(i) for i in ana.messages.evaluate_all("ns => ns.map(n => n.dataset.id)")]
    assert ids == list(range(ids[0], ids[0] + 130))
    log.evaluate("el => { el.scrollTop = 0; }")
    expect(ana.page.get_by_role("button", name="Show older messages")).to_be_hidden()


# Event Timing: how long each key press took from the event to the next paint.
MEASURE_KEYS = """
window.__keys = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.name === "keydown" || entry.name === "keypress" || entry.name === "input") {
      window.__keys.push(entry.duration);
    }
  }
}).observe({type: "event", durationThreshold: 16, buffered: true});
"""

SEND_AND_TIME = """
(text) => new Promise((resolve) => {
  const list = document.getElementById("messages");
  const input = document.getElementById("messageInput");
  input.value = text;
  const started = performance.now();
  const seen = new MutationObserver(() => {
    if (list.lastElementChild && list.lastElementChild.textContent.includes(text)) {
      seen.disconnect();
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - started)));
    }
  });
  seen.observe(list, {childList: true});
  input.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true}));
})
"""


# Typing and sending are timed.
@pytest.mark.serial
def test_with_5000_messages_received_the_page_stays_small_and_typing_and_sending_stay_fast(
    make_server: ServerFactory, open_chat: Opener, record_property: Callable[[str, object], None]
) -> None:
    backend = make_server(FAST)
    ana = open_chat(backend.http, "Ana", "flood", init_script=MEASURE_KEYS)
    bruno = JsonClient(backend.ws, "name=Bruno&room=flood")
    started = time.monotonic()
    for n in range(5000):
        bruno.send(type="publish", room="flood", text=f"message {n} " + "lorem ipsum " * 5)
    expect(ana.texts.last).to_contain_text("message 4999 ", timeout=120_000)
    received = time.monotonic() - started
    items = ana.page.locator("#messages > li").count()
    assert items <= 250, f"{items} items in the DOM"
    # Memory is bounded too: the oldest are forgotten (they come back from the server on scroll).
    kept = ana.page.evaluate("window.desafio.chat.roomState('flood').messages.length")
    assert 1000 <= kept <= 2200

    ana.page.evaluate("window.__keys = []")
    ana.input.click()
    ana.page.keyboard.type("typing in a long session", delay=20)
    keys: list[float] = ana.page.evaluate("window.__keys")
    slowest_key = max(keys, default=0.0)  # entries under 16 ms are not reported at all
    sends = [ana.page.evaluate(SEND_AND_TIME, f"sent {n}") for n in range(5)]
    # Reported, not asserted tightly: `pytest -o log_cli=true` shows it; junit XML keeps it.
    record_property("slowest_key_ms", round(slowest_key))
    record_property("send_to_paint_ms", [round(s) for s in sends])
    log.warning(
        "5000 messages received in %.1f s; DOM items %d; slowest key %.0f ms (%d over 16 ms);"
        " send-to-paint %s ms",
        received, items, slowest_key, len(keys), ", ".join(f"{s:.0f}" for s in sends),
    )  # fmt: skip
    assert slowest_key < FAST_ENOUGH_MS * 4, keys  # generous on a shared 2-core CI machine
    assert min(sends) < FAST_ENOUGH_MS * 4, sends
    bruno.close()
