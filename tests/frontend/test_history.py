"""History on join and recovery after a gap, against a real backend and its real database."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from tests.frontend.pages import ChatPage, Opener
from tests.support.clients import JsonClient, publish_acked
from tests.support.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]
# Publishing a backlog quickly must not trip the rate limit of the test's one author.
FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"}
BACK_WITHIN_MS = 30_000
# A client-session secret, as the page keeps one in localStorage (guests are who it says).
ANA_SESSION = "ana-browser-session-0123456789"
REMEMBER_SESSION = f"localStorage.setItem('desafio.session', '{ANA_SESSION}');"


def ids_in_page(page: ChatPage) -> list[int]:
    return [int(i or "0") for i in page.messages.evaluate_all("ns => ns.map(n => n.dataset.id)")]


def test_joining_a_room_shows_its_recent_history_with_own_messages_as_own(
    server: ServerProcess, open_chat: Opener
) -> None:
    publish_acked(server.ws, "archive", name="Bruno", texts=[f"old {n}" for n in range(20)])
    # Ana wrote from this browser before (same client-session secret: the same guest).
    earlier = JsonClient(server.ws, f"name=Ana&room=archive&session={ANA_SESSION}")
    earlier.send(type="publish", room="archive", text="mine", ref="m1")
    earlier.next_of("ack")
    earlier.close()
    publish_acked(server.ws, "archive", name="Ana", texts=["another Ana"])
    recent = [f"recent {n}" for n in range(48)]
    publish_acked(server.ws, "archive", name="Bruno", texts=recent)

    ana = open_chat(server.http, "Ana", "archive", init_script=REMEMBER_SESSION)
    # The latest 50, oldest first; Ana's own among them is shown as hers, the other Ana's not.
    expect(ana.texts).to_have_text(["mine", "another Ana", *recent])
    expect(ana.messages.first).to_have_class(re.compile(r"\bmine\b"))
    expect(ana.messages.first.locator(".sender")).to_have_text("You")
    expect(ana.messages.nth(1)).not_to_have_class(re.compile(r"\bmine\b"))
    expect(ana.messages.nth(1).locator(".sender")).to_have_text("Ana")
    expect(ana.messages.nth(1).locator(".guest-tag")).to_have_text("guest")
    expect(ana.messages.nth(2).locator(".sender")).to_have_text("Bruno")

    publish_acked(server.ws, "archive", name="Bruno", texts=["live"])
    expect(ana.texts).to_have_text(["mine", "another Ana", *recent, "live"])
    ids = ids_in_page(ana)
    assert ids == list(range(ids[0], ids[0] + 51))


def miss_messages_while_away(
    make_server: ServerFactory,
    env: dict[str, str],
    backend: ServerProcess,
    page: ChatPage,
    room: str,
    texts: list[str],
) -> ServerProcess:
    """Stop the backend, restart it on the same port and database, and publish `texts` there
    while the page is kept offline, so that it can only learn of them by recovering."""
    backend.stop()
    expect(page.status).to_have_attribute("data-state", "reconnecting")
    page.page.context.set_offline(True)
    restarted = make_server(env, port=backend.port)
    publish_acked(restarted.ws, room, name="Bruno", texts=texts)
    page.page.context.set_offline(False)
    expect(page.status).to_have_attribute("data-state", "open", timeout=BACK_WITHIN_MS)
    return restarted


def test_after_a_restart_the_page_shows_exactly_the_messages_it_missed(
    make_server: ServerFactory, open_chat: Opener, tmp_path: Path
) -> None:
    env = {**FAST, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/messages.db"}
    backend = make_server(env)
    ana = open_chat(backend.http, "Ana", "gap")
    publish_acked(backend.ws, "gap", name="Bruno", texts=["before 1", "before 2"])
    ana.say("mine before")
    expect(ana.texts).to_have_text(["before 1", "before 2", "mine before"])
    expect(ana.messages.nth(2)).to_have_attribute("data-state", "sent")

    # More than the 50 a fresh join would get: only resuming from the last id shows them all.
    missed = [f"missed {n}" for n in range(60)]
    backend = miss_messages_while_away(make_server, env, backend, ana, "gap", missed)

    publish_acked(backend.ws, "gap", name="Bruno", texts=["after"])
    expect(ana.texts).to_have_text(["before 1", "before 2", "mine before", *missed, "after"])
    ids = ids_in_page(ana)
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    expect(ana.page.locator("#messages .gap")).to_have_count(0)


def test_a_backlog_too_big_to_replay_is_reloaded_behind_a_visible_divider(
    make_server: ServerFactory, open_chat: Opener, tmp_path: Path
) -> None:
    env = {**FAST, "MAX_REPLAY": "5", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/m.db"}
    backend = make_server(env)
    ana = open_chat(backend.http, "Ana", "flood")
    publish_acked(backend.ws, "flood", name="Bruno", texts=["seen"])
    expect(ana.texts).to_have_text(["seen"])

    missed = [f"missed {n}" for n in range(70)]
    miss_messages_while_away(make_server, env, backend, ana, "flood", missed)

    # The latest 50 are reloaded; the 20 before them are gone, and the divider says so.
    expect(ana.texts).to_have_text(["seen", *missed[20:]])
    items = ana.page.locator("#messages > li")
    expect(items.nth(1)).to_have_class("gap")
    expect(items.nth(1)).to_have_text("Some messages could not be recovered.")
    expect(items).to_have_count(52)
