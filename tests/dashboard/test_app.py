"""The Streamlit app under AppTest, with a real backend up or with none listening."""

from __future__ import annotations

import re
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import rerun_until
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess, free_port

App = Callable[[str], AppTest]


def feed_shows(text: str) -> Callable[[AppTest], bool]:
    return lambda app: any(text in html.value for html in app.html)


def tile_values(app: AppTest) -> dict[str, str]:
    """The headline counts and health tiles, label -> shown value."""
    html = next(h.value for h in app.html if 'class="tiles"' in h.value)
    found = re.findall(
        r'data-label="([^"]+)"><div class="label">[^<]*</div>'
        r'<div class="value">([^<]*)</div>',
        html,
    )
    return dict(found)


def feed_of(app: AppTest) -> str:
    """The feed's HTML (the page has other HTML: the health tiles)."""
    return next(html.value for html in app.html if 'class="feed' in html.value)


def following(room: str) -> Callable[[AppTest], bool]:
    return lambda app: any(
        caption.value.startswith("Following") and room in caption.value for caption in app.caption
    )


def send(app: AppTest, room: str, name: str, text: str) -> AppTest:
    app.text_input(key="send_room").set_value(room)
    app.text_input(key="send_name").set_value(name)
    app.text_input(key="send_text").set_value(text)
    return app.button[0].click().run()


def test_app_renders_the_feed_counts_and_send_box_with_the_backend_up(
    server: ServerProcess, app_for: App
) -> None:
    app = app_for(server.http)
    author = JsonClient(server.ws, "name=hal&room=lobby")
    try:
        author.send(type="publish", room="lobby", text="visible in the feed")
        rerun_until(app, feed_shows("visible in the feed"), "the message in the feed")
    finally:
        author.close()
    assert not app.exception
    assert [banner.value for banner in app.success] == [f"Connected to {server.http}"]
    tiles = tile_values(app)
    for label in ("Connections", "Text clients", "JSON clients", "Messages/s", "Rooms"):
        assert label in tiles
    assert int(tiles["JSON clients"]) >= 1
    assert [field.label for field in app.text_input] == [
        *["Room", "Display name", "Message"],  # the send box
        *["Sender", "Search text"],  # the feed's filters
        *["History of room", "Username", "Password"],  # the admin panel and its login
    ]
    assert app.button[0].label == "Send"
    assert app.toggle(key="feed_paused").value is False
    assert "lobby" in app.selectbox(key="feed_room").options


def test_app_counts_are_the_numbers_the_backend_reports(
    server: ServerProcess, app_for: App
) -> None:
    app = app_for(server.http)
    clients = [JsonClient(server.ws, f"name=n{i}&room=counted") for i in range(3)]
    try:

        def counted(app: AppTest) -> bool:
            # Three members plus the dashboard's own feed connection, once it follows the room.
            cell = '<td data-col="room">counted</td><td data-col="connections">4</td>'
            return any(cell in html.value for html in app.html)

        rerun_until(app, counted, "4 connections in the counted room")
    finally:
        for client in clients:
            client.close()


def test_app_shows_backend_unavailable_with_the_backend_down(app_for: App) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = app_for(url)
    assert not app.exception
    state = app.error[0].value
    assert state.startswith(f"Backend unavailable at {url} (connection refused). Retrying in")
    assert [field.label for field in app.text_input][:3] == ["Room", "Display name", "Message"]


def test_app_send_box_reaches_another_client(server: ServerProcess, app_for: App) -> None:
    listener = JsonClient(server.ws, "name=ivy&room=desk")
    try:
        app = send(app_for(server.http), "desk", "night-shift", "sent from the dashboard")
        message = listener.next_of("message")
    finally:
        listener.close()
    assert (message["sender"], message["text"]) == ("night-shift", "sent from the dashboard")
    assert app.success[-1].value.startswith("Sent to desk as message #")
    assert app.text_input(key="send_text").value == ""


def test_app_send_box_shows_the_backends_error(server: ServerProcess, app_for: App) -> None:
    app = send(app_for(server.http), "not a room!", "operator", "hi")
    assert not app.exception
    assert app.error[-1].value.startswith("Backend refused the message: room must match")
    assert app.text_input(key="send_text").value == "hi"


def test_app_filters_the_feed_by_room(server: ServerProcess, app_for: App) -> None:
    app = app_for(server.http)
    ops = JsonClient(server.ws, "name=olga&room=ops-floor")
    try:
        rerun_until(app, following("ops-floor"), "the feed to follow ops-floor")
        ops.send(type="publish", room="ops-floor", text="only in ops")
        ops.send(type="publish", room="lobby", text="only in lobby")
        rerun_until(app, feed_shows("only in lobby"), "both messages in the feed")
        rerun_until(app, feed_shows("only in ops"), "both messages in the feed")
        app.selectbox(key="feed_room").select("ops-floor").run()
    finally:
        ops.close()
    feed = feed_of(app)
    assert "only in ops" in feed and "only in lobby" not in feed
