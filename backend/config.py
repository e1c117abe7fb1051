"""Every setting of the hub, read from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """One class, one place: every tunable of the server lives here."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Where to listen (used by `python -m backend`; the uvicorn CLI takes its own flags).
    host: str = "0.0.0.0"
    port: int = Field(default=8765, ge=1, le=65535)

    # Rooms
    default_room: str = Field(default="lobby", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    max_rooms_per_connection: int = Field(default=32, ge=1)

    # Limits
    max_message_bytes: int = Field(default=64 * 1024, ge=128)
    max_connections: int = Field(default=10_000, ge=1)
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    # Frames refused by the rate limiter in a row before the connection is closed with 1008.
    rate_limit_strikes: int = Field(default=50, ge=1)

    # Back-pressure: what one connection may have queued before it is a slow consumer.
    outbound_queue_bytes: int = Field(default=1024 * 1024, ge=1024)
    outbound_queue_messages: int = Field(default=4096, ge=1)
    # How long a closing connection may take to answer our close frame before it is aborted.
    close_timeout: float = Field(default=5.0, gt=0)

    # Heartbeats (uvicorn's keepalive pings) and compression.
    ws_ping_interval: float = Field(default=20.0, ge=0)
    ws_ping_timeout: float = Field(default=20.0, ge=0)
    ws_per_message_deflate: bool = False

    # Fan-out between instances: memory:// (one process) or redis://host:port/db.
    broker_url: str = "memory://"

    # Operations
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    frontend_dir: str = "frontend"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
