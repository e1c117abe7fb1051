"""The dashboard's settings come from the environment; the WebSocket URL from BACKEND_URL."""

from __future__ import annotations

from dashboard.settings import DashboardSettings


def test_settings_default_to_the_local_backend() -> None:
    settings = DashboardSettings.from_env({})
    assert settings.backend_url == "http://127.0.0.1:8765"
    assert settings.ws_url == "ws://127.0.0.1:8765/ws"


def test_settings_derive_a_secure_websocket_url_from_an_https_backend() -> None:
    settings = DashboardSettings.from_env({"BACKEND_URL": "https://hub.example.org/"})
    assert settings.ws_url == "wss://hub.example.org/ws"


def test_settings_read_the_feed_size_and_refresh_interval() -> None:
    env = {"DASHBOARD_FEED_SIZE": "50", "DASHBOARD_REFRESH_SECONDS": "2.5"}
    settings = DashboardSettings.from_env(env)
    assert (settings.feed_size, settings.refresh_seconds) == (50, 2.5)


def test_settings_read_the_feeds_credentials_and_never_print_the_secrets() -> None:
    env = {
        "DASHBOARD_TOKEN": " tok.en.value ",
        "DASHBOARD_USERNAME": "ops",
        "DASHBOARD_PASSWORD": "pass phrase",
    }
    settings = DashboardSettings.from_env(env)
    assert (settings.token, settings.username, settings.password) == (
        "tok.en.value",
        "ops",
        "pass phrase",
    )
    assert "tok.en.value" not in repr(settings) and "pass phrase" not in repr(settings)
