"""The page's operator panels under AppTest, on a real backend: an unseen observer feed, the
feed's search and pause, and the admin panel that acts with the visitor's own login."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.auth import Session
from dashboard.sendbox import VIEWER
from tests.dashboard.conftest import rerun_until
from tests.support.auth import SECRET, sign
from tests.support.clients import JsonClient, assert_silent, publish_acked
from tests.support.server import ServerFactory, ServerProcess

App = Callable[..., AppTest]
ADMIN = sign("dashboard", role="admin")
FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"}


@pytest.fixture(scope="module")
def backend() -> Iterator[ServerProcess]:
    # Auth optional (guests chat), yet admin tokens verify.
    with ServerProcess({"JWT_SECRET": SECRET, **FAST}) as proc:
        yield proc


def feed_of(app: AppTest) -> str:
    return next(html.value for html in app.html if 'class="feed' in html.value)


def room_connections(app: AppTest, room: str) -> int | None:
    """The connections the page's rooms table gives `room` (None: not listed)."""
    cell = f'<td data-col="room">{room}</td><td data-col="connections">'
    for html in app.html:
        if cell in html.value:
            return int(html.value.split(cell)[1].split("<")[0])
    return None


def test_with_an_admin_token_the_dashboard_observes_and_nobody_counts_it(
    backend: ServerProcess, app_for: App
) -> None:
    members = []
    for i in range(2):
        # One after the other: a second member that joins while the first is still joining is
        # in the first one's roster, not a presence event it could wait for.
        members.append(JsonClient(backend.ws, f"name=m{i}&room=watched"))
        members[-1].next_of("subscribed")
    members[0].next_of("presence")
    app = app_for(backend.http, DASHBOARD_TOKEN=ADMIN)
    rerun_until(
        app,
        lambda app: any("watched" in c.value for c in app.caption if "Following" in c.value),
        "the feed to follow the watched room",
    )
    # Followed, yet the room still counts its two members, and they heard of no one.
    assert room_connections(app, "watched") == 2
    assert any("observes unseen" in c.value for c in app.caption)
    assert_silent(members[0].ws, 0.5)
    members[1].send(type="publish", room="watched", text="seen unseen")
    rerun_until(app, lambda app: "seen unseen" in feed_of(app), "the message in the feed")

    # Who is in the room: the roster the feed was given, then a join it heard of.
    app.selectbox(key="members_room").select("watched").run()
    assert any(
        c.value == "2 member(s) in watched; listed: m0 (guest), m1 (guest)." for c in app.caption
    ), [c.value for c in app.caption]
    late = JsonClient(backend.ws, "name=late&room=watched")
    late.next_of("subscribed")
    rerun_until(
        app,
        lambda app: any(c.value.startswith("3 member(s) in watched") for c in app.caption),
        "the join to be counted",
    )


def test_search_finds_a_message_long_scrolled_off_and_pause_freezes_the_rows(
    backend: ServerProcess, app_for: App
) -> None:
    app = app_for(backend.http)
    rerun_until(app, lambda app: "lobby" in app.selectbox(key="feed_room").options, "lobby")
    publish_acked(backend.ws, "lobby", ["needle 7f3a", *[f"hay {n}" for n in range(150)]])
    rerun_until(app, lambda app: "hay 149" in feed_of(app), "the last message")
    assert "needle 7f3a" not in feed_of(app)  # 50 rows on screen: it scrolled off
    app.text_input(key="feed_search").set_value("NEEDLE").run()
    feed = feed_of(app)
    assert "needle 7f3a" in feed and "hay" not in feed
    app.text_input(key="feed_search").set_value("").run()

    app.toggle(key="feed_paused").set_value(True).run()
    publish_acked(backend.ws, "lobby", ["while paused"])
    time.sleep(1.5)
    app.run()
    assert "while paused" not in feed_of(app)
    app.toggle(key="feed_paused").set_value(False).run()
    rerun_until(app, lambda app: "while paused" in feed_of(app), "the rows live again")


def test_the_admin_panel_lists_connections_and_kicks_with_the_visitors_admin_login(
    make_server: ServerFactory, app_for: App
) -> None:
    # Its own backend: on the module's, another test's dashboard token keeps the name
    # "dashboard" for that service, and this token-less feed goes by a guest name.
    backend = make_server({"JWT_SECRET": SECRET, **FAST})
    victim = JsonClient(backend.ws, "name=mallory&room=ops")
    victim.next_of("subscribed")
    app = app_for(backend.http)
    assert [b.label for b in app.button if b.label == "Kick"] == []  # not logged in: no kick
    token = sign("root", role="admin")
    app.session_state[VIEWER] = Session("root", token, time.time() + 600, 600)
    app.run()
    app.text_input(key="presence_room").set_value("ops").run()
    rows = app.dataframe[-1].value.to_dict("records")
    # Who is in the room: mallory, and this dashboard's feed (no admin token: a visible member).
    assert sorted(r["name"] for r in rows) == ["dashboard", "mallory"]
    assert all("ops" in r["rooms"].split(", ") for r in rows)
    choice = next(o for o in app.selectbox(key="kick_choice").options if "mallory" in o)
    app.selectbox(key="kick_choice").select(choice).run()
    next(b for b in app.button if b.label == "Kick").click().run()
    assert any(c.value.startswith("Kicked ") for c in app.caption)
    with pytest.raises(Exception):  # noqa: B017 - closed by the server: any receive fails
        for _ in range(10):
            victim.next()


def test_a_non_admin_login_is_told_it_may_not_list_connections(
    backend: ServerProcess, app_for: App
) -> None:
    app = app_for(backend.http)
    app.session_state[VIEWER] = Session("bob", sign("bob"), time.time() + 600, 600)
    app.run()
    assert any("admin account is needed" in i.value for i in app.info)
    assert not any(b.label == "Kick" for b in app.button)


def test_an_outage_is_shown_as_a_gap_with_its_start_in_the_viewers_zone(
    make_server: ServerFactory, app_for: App
) -> None:
    backend = make_server()
    app = app_for(backend.http)
    rerun_until(app, lambda app: any("Time range" in r.label for r in app.radio), "the charts")
    rerun_until(
        app, lambda app: not any("No figures yet" in c.value for c in app.caption), "figures"
    )
    backend.terminate()
    rerun_until(
        app,
        lambda app: any(w.value.startswith("No data (backend") for w in app.warning),
        "the outage to be listed above the charts",
    )
    outage = next(w.value for w in app.warning if w.value.startswith("No data (backend"))
    # Still going on, from the last figures until now; AppTest's "browser" names no zone: UTC.
    pattern = r"No data \(backend or /stats unreachable\): \d\d:\d\d:\d\d to now \(\d+s\) \(UTC\)\."
    assert re.fullmatch(pattern, outage), outage
