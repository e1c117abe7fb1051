"""Connections (who, rooms, queue, age) with kick, presence per room, and history per room.

Everything here acts with the *visitor's* own login, never the feed's token: the connection list
and kick need an admin account (the backend answers 401/403 otherwise), a room's history needs
whatever that room's readers need. The requests are plain functions, tested without Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import streamlit as st

from dashboard.history import parse_messages
from dashboard.sendbox import current_viewer, render_login
from dashboard.settings import DashboardSettings
from dashboard.view import clock


@dataclass(frozen=True, slots=True)
class Answer:
    """Rows when the backend answered 200, else why not (fit for the page)."""

    rows: list[dict[str, Any]]
    error: str = ""


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _why(response: httpx.Response) -> str:
    if response.status_code in (401, 403):
        return "Your login may not do this (an admin account is needed)."
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def list_connections(http: httpx.Client, url: str, token: str | None) -> Answer:
    """`GET /admin/connections` as table rows, oldest connection first."""
    try:
        response = http.get(url + "/admin/connections", headers=_headers(token))
    except httpx.HTTPError as exc:
        return Answer([], f"Backend unavailable ({type(exc).__name__}).")
    if response.status_code != 200:
        return Answer([], _why(response))
    rows = [
        {
            "name": c["name"],
            "id": c.get("sender_id", ""),
            "mode": c.get("mode", ""),
            "rooms": ", ".join(c["rooms"]),
            "queued": c.get("queued", 0),
            "age s": c.get("age_seconds", 0),
            "observer": c.get("observer", False),
            "key": c["key"],
        }
        for c in response.json()["connections"]
    ]
    return Answer(sorted(rows, key=lambda row: -float(row["age s"])))


def kick(http: httpx.Client, url: str, token: str | None, key: str) -> str:
    """Close one connection (4002); the outcome in words."""
    try:
        response = http.post(f"{url}/admin/connections/{key}/kick", headers=_headers(token))
    except httpx.HTTPError as exc:
        return f"Backend unavailable ({type(exc).__name__}); nobody kicked."
    if response.status_code == 200:
        return f"Kicked {key}."
    return f"Not kicked: {_why(response)}"


def room_history(
    http: httpx.Client, url: str, token: str | None, room: str, zone: str, limit: int = 50
) -> Answer:
    """A room's latest stored messages, newest first, as this visitor may read them."""
    try:
        response = http.get(
            f"{url}/rooms/{room}/messages", params={"limit": limit}, headers=_headers(token)
        )
    except httpx.HTTPError as exc:
        return Answer([], f"Backend unavailable ({type(exc).__name__}).")
    if response.status_code != 200:
        return Answer([], _why(response))
    found = parse_messages(response.json()) or []
    rows = [
        {
            "id": m["id"],
            "time": clock(str(m.get("ts", "")), zone),
            "sender": m.get("sender"),
            "text": m.get("text"),
        }
        for m in reversed(found)
    ]
    return Answer(rows)


def render_admin(settings: DashboardSettings, zone: str, auth_required: bool) -> None:
    """The connections panel (admins) and the history lookup (anyone, as their login allows)."""
    viewer = current_viewer()
    token = viewer.token if viewer else None
    url = settings.backend_url
    with httpx.Client(timeout=3.0) as http:
        st.markdown("**Room history**")
        room = st.text_input("History of room", value=settings.default_room, key="history_room")
        if st.button("Load history", key="history_load"):
            found = room_history(http, url, token, room, zone)
            if found.error:
                st.error(found.error)
            else:
                st.dataframe(found.rows, hide_index=True)
        st.markdown("**Connections** (this instance)")
        if viewer is None:
            if auth_required:
                st.caption("Log in (send box) with an admin account to list and kick.")
            else:
                caption = "Log in with an admin account to list connections and kick."
                render_login(settings, prefix="admin", caption=caption)
            return
        listed = list_connections(http, url, token)
        if listed.error:
            st.info(listed.error)
            return
        who = st.text_input("Members of room (presence)", key="presence_room")
        rows = [r for r in listed.rows if not who or who in r["rooms"].split(", ")]
        st.dataframe(rows, hide_index=True)
        keys = {f"{r['name']} · {r['rooms'] or 'no rooms'} · {r['key']}": r["key"] for r in rows}
        chosen = st.selectbox("Connection", list(keys), key="kick_choice")
        if st.button("Kick", key="kick", disabled=chosen is None) and chosen is not None:
            st.session_state.kick_outcome = kick(http, url, token, keys[chosen])
        if outcome := st.session_state.get("kick_outcome"):
            st.caption(outcome)
