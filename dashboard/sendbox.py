"""The page's send box: room, display name and text; a login form first when the backend
requires authentication.

The login is per viewer: the token lives in that viewer's st.session_state, never in the
process-wide feed client, so two operators each send as themselves.
"""

from __future__ import annotations

from dataclasses import replace

import httpx
import streamlit as st

from dashboard.auth import LoginFailed, Session, login
from dashboard.sender import send_message
from dashboard.settings import DashboardSettings

VIEWER = "viewer"  # session-state key of the logged-in viewer's Session


def _viewer() -> Session | None:
    viewer: Session | None = st.session_state.get(VIEWER)
    if viewer is not None and viewer.remaining() <= 0:
        # An expired token would only be refused at the handshake: ask for a login now instead.
        del st.session_state[VIEWER]
        st.session_state.login_error = "Your session expired; log in again."
        return None
    return viewer


def current_viewer() -> Session | None:
    """The visitor's own login (send box), or None: what the feed shows them depends on it."""
    return _viewer()


def _send(ws_url: str) -> None:
    state = st.session_state
    viewer = _viewer()
    name = viewer.username if viewer else state.send_name
    token = viewer.token if viewer else None
    outcome = send_message(ws_url, state.send_room, name, state.send_text, token=token)
    if outcome.unauthorized and viewer is not None:
        state.pop(VIEWER, None)
        outcome = replace(outcome, detail=f"{outcome.detail}. Log in again.")
    state.send_outcome = outcome
    if outcome.ok:
        state.send_text = ""


def _login(backend_url: str, prefix: str = "login") -> None:
    state = st.session_state
    password = state[f"{prefix}_password"]
    # The password is not kept in the session once used, whatever the answer.
    state[f"{prefix}_password"] = ""
    with httpx.Client(timeout=5.0) as http:
        try:
            state[VIEWER] = login(http, backend_url, state[f"{prefix}_user"], password)
        except LoginFailed as exc:
            state.login_error = str(exc)
            return
    state.pop("login_error", None)
    state.pop("send_outcome", None)


def _logout() -> None:
    for key in (VIEWER, "send_outcome", "login_error"):
        st.session_state.pop(key, None)


def render_login(
    settings: DashboardSettings,
    prefix: str = "login",
    caption: str = "The backend requires authentication: log in to send messages.",
) -> None:
    """A login form; its widgets' keys start with `prefix` (two forms may share a page)."""
    with st.form(prefix, border=True):
        st.caption(caption)
        st.text_input("Username", key=f"{prefix}_user", autocomplete="username")
        st.text_input(
            "Password",
            type="password",
            key=f"{prefix}_password",
            autocomplete="current-password",
        )
        st.form_submit_button("Log in", on_click=_login, args=(settings.backend_url, prefix))
    error = st.session_state.get("login_error")
    if error:
        st.error(error)


def render_send_box(settings: DashboardSettings, auth_required: bool) -> None:
    """Room, display name and text; Enter or the button sends; the backend's answer is shown."""
    viewer = _viewer()
    if auth_required and viewer is None:
        render_login(settings)
        return
    with st.form("send", border=True):
        room_col, name_col = st.columns(2)
        room_col.text_input("Room", value=settings.default_room, key="send_room")
        if viewer is None:
            name_col.text_input("Display name", value="operator", key="send_name")
        else:
            # The backend names the sender after the token: the field only says who that is.
            name_col.text_input("Display name", value=viewer.username, disabled=True)
        st.text_input("Message", key="send_text", placeholder="Type a message, press Enter")
        st.form_submit_button("Send", on_click=_send, args=(settings.ws_url,))
    if viewer is not None:
        st.caption(f"Logged in as {viewer.username}.")
        st.button("Log out", on_click=_logout)
    outcome = st.session_state.get("send_outcome")
    if outcome is not None:
        (st.success if outcome.ok else st.error)(outcome.detail)
