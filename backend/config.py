"""Every setting of the hub, read from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import math
import zlib
from collections import Counter
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.auth.names import RoomName
from backend.auth.rooms import RoomAccess

# An HS256 secret shorter than this, or one of these placeholders, is refused with AUTH_REQUIRED.
MIN_SECRET_LENGTH = 32
# ... and so is one whose characters carry less than this (Shannon estimate over its own
# character frequencies, times its length): 36 x "a" carries 0 bits, `secrets.token_hex(16)`
# at least ~99, `secrets.token_urlsafe(48)` ~300.
MIN_SECRET_BITS = 96.0
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "jwt-secret"})
_ZLIB_OVERHEAD = len(zlib.compress(b"", 9))


def secret_bits(secret: str) -> float:
    """An upper estimate of a secret's entropy: the lower of its character frequencies'
    Shannon entropy times its length, and its zlib-compressed size (which sees repeated
    patterns, "abc-abc-abc-...", that character frequencies miss)."""
    counts, n = Counter(secret), len(secret)
    if not n:
        return 0.0
    shannon = -sum(c / n * math.log2(c / n) for c in counts.values()) * n
    packed = (len(zlib.compress(secret.encode(), 9)) - _ZLIB_OVERHEAD) * 8
    return min(shannon, float(packed))


def weak_secret(secret: str) -> bool:
    """A secret that is guessable: a known placeholder, too short, or too repetitive."""
    return (
        secret in PLACEHOLDER_SECRETS
        or len(secret) < MIN_SECRET_LENGTH
        or secret_bits(secret) < MIN_SECRET_BITS
    )


class Settings(BaseSettings):
    """One class, one place: every tunable of the server lives here."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # A refused setting must not print the others (JWT_SECRET, a DATABASE_URL password).
        hide_input_in_errors=True,
    )

    # Where to listen (used by `python -m backend`; the uvicorn CLI takes its own flags).
    host: str = "0.0.0.0"
    port: int = Field(default=8765, ge=1, le=65535)

    # Rooms
    default_room: RoomName = "lobby"
    max_rooms_per_connection: int = Field(default=32, ge=1)

    # Limits
    max_message_bytes: int = Field(default=64 * 1024, ge=128)
    # TCP connections per process, counted from accept until closed: HTTP requests, WebSocket
    # handshakes, logins by first frame and open WebSockets alike (more: HTTP 503 at once).
    max_connections: int = Field(default=10_000, ge=1)
    # The same per client address (more: HTTP 429), so that one host cannot take them all.
    max_connections_per_address: int = Field(default=1000, ge=1)
    # Reverse proxies, comma-separated addresses or networks ("*": any), the same variable
    # uvicorn reads: their X-Forwarded-For is trusted, and their clients are counted per
    # forwarded address at the WebSocket handshake instead of per peer at accept (a proxy
    # carries many clients). The default is the loopback (the nginx of `make cluster`).
    forwarded_allow_ips: str = "127.0.0.1,::1"
    # A request's line and headers (or a WebSocket upgrade) must arrive within this many
    # seconds of its first byte, or of accept (else 408 and closed): no half-open handshakes.
    handshake_timeout_seconds: float = Field(default=10.0, gt=0)
    # Request line and headers together, in bytes (more: 431 and closed).
    max_request_head_bytes: int = Field(default=16 * 1024, ge=1024)
    # An HTTP request body, in bytes (more: 413 and closed); JSON and form bodies are small.
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # HTTP requests (WebSocket handshakes included) per client address: a token bucket, per
    # second and at once (more: 429). Peers in FORWARDED_ALLOW_IPS are not limited here: the
    # proxy should limit its clients (nginx limit_req).
    http_requests_per_second: float = Field(default=50.0, gt=0)
    http_requests_burst: int = Field(default=200, ge=1)
    # Ping and pong frames a WebSocket client may send: a token bucket per connection (more:
    # close 1008). Each ping makes the server write a pong.
    control_frames_per_second: float = Field(default=10.0, gt=0)
    control_frames_burst: int = Field(default=50, ge=1)
    # Inbound bytes per WebSocket connection (token bucket); past it the server stops reading
    # from that socket until the budget refills, so TCP slows the sender down.
    inbound_bytes_per_second: int = Field(default=256 * 1024, ge=1024)
    inbound_bytes_burst: int = Field(default=1024 * 1024, ge=1024)
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    # Frames refused by the rate limiter in a row before the connection is closed with 1008.
    rate_limit_strikes: int = Field(default=50, ge=1)
    # Joins and leaves (subscribe to a new room, unsubscribe) per connection: each is announced
    # to every member of the room, so churn would cost its members, not the churner. The burst
    # covers joining every room a connection may hold at once (a reconnect).
    room_changes_per_second: float = Field(default=2.0, gt=0)
    room_changes_burst: int = Field(default=64, ge=1)
    # The same, for all the connections of one identity (a user, or a guest's address) at once:
    # 800 connections churning within their own budgets cost a room's members p99 ~750 ms.
    room_changes_per_identity_per_second: float = Field(default=20.0, gt=0)
    room_changes_per_identity_burst: int = Field(default=256, ge=1)

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
    # REDIS_URL, the name hosting platforms set: used as the broker when BROKER_URL is unset.
    redis_url: str | None = None

    # Message storage: sqlite+aiosqlite:///path, postgresql+asyncpg://..., or none.
    database_url: str = "sqlite+aiosqlite:///data/desafio.db"
    # Rows per transaction at most; the writer takes whatever queued while the last one committed.
    store_batch_size: int = Field(default=500, ge=1)
    # Retention (0 disables a rule), enforced every retention_interval_seconds: by default 30
    # days, and the newest 10,000 messages of each room.
    retention_max_age_seconds: float = Field(default=30 * 24 * 3600, ge=0)
    retention_max_per_room: int = Field(default=10_000, ge=0)
    retention_interval_seconds: float = Field(default=60.0, gt=0)
    # Bytes one identity may add to the database per hour (guests: per client address), a
    # token bucket that deep; past it, publishes get `quota_exceeded`. 0 disables it.
    stored_bytes_per_hour: int = Field(default=32 * 1024 * 1024, ge=0)
    # A subscriber further behind than this many messages gets recovered=false (reload instead).
    max_replay: int = Field(default=10_000, ge=1)
    # Refs answered from memory (in flight, or answered within the window, at most this many);
    # older ones are resolved by the store's unique (room, sender_id, ref) index.
    idempotency_window_seconds: float = Field(default=600.0, ge=0)
    idempotency_max_refs: int = Field(default=20_000, ge=1)
    # GET /rooms/{room}/messages: a page stops early (truncated, with a `next` cursor) past this
    # many bytes of messages; at most this many reads at once per process (more: 503).
    history_max_response_bytes: int = Field(default=1024 * 1024, ge=1024)
    history_concurrency: int = Field(default=4, ge=1)

    # Authentication and authorization (docs/security.md).
    auth_required: bool = False
    jwt_secret: SecretStr = SecretStr("")
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    # RS256: PEM files. The private key signs (login); the public key alone verifies tokens that
    # another service issued (login is then unavailable here).
    jwt_private_key_file: str | None = None
    jwt_public_key_file: str | None = None
    token_ttl_seconds: int = Field(default=3600, ge=1)
    registration_open: bool = True
    # A JSON-mode client without a token in the handshake must send an `auth` frame within this.
    auth_timeout_seconds: float = Field(default=5.0, gt=0)
    # PRIVATE_ROOMS='{"staff": {"users": ["ana"], "roles": ["admin"]}}'; other rooms are open.
    private_rooms: dict[RoomName, RoomAccess] = Field(default_factory=dict)
    # Failed logins allowed per username and per client address within the window, then 429.
    login_failures_per_user: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_window_seconds: float = Field(default=300.0, gt=0)
    # Password hashing (Argon2id, ~50 ms and 64 MiB each): at most this many at once, this many
    # more waiting; past that, logins and registrations get 503 with Retry-After.
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)
    password_hash_queue: int = Field(default=16, ge=0)
    # Registrations per client address, and in total, per hour (more: 429 with Retry-After).
    registrations_per_address_per_hour: int = Field(default=20, ge=1)
    registrations_per_hour: int = Field(default=500, ge=1)
    # How stale this instance's view of an account (disabled, deleted, tokens revoked) may get:
    # changes made on another instance take effect within this many seconds, open sockets too.
    account_cache_seconds: float = Field(default=5.0, gt=0, le=300)
    # Browser origins allowed to open /ws and to call the API cross-origin (CORS), e.g.
    # ["https://chat.example.com"]. Empty (the default): Origin is not checked, no CORS headers.
    allowed_origins: list[str] = Field(default_factory=list)

    # Web Push (docs/push.md): off unless VAPID_PRIVATE_KEY is set (`python -m backend.push keys`).
    # base64url raw 32-byte P-256 scalar, or PEM; VAPID_SUBJECT is mailto:... or https://...
    vapid_private_key: SecretStr = SecretStr("")
    vapid_subject: str = ""
    # How long a push service keeps an undelivered push (RFC 8030 TTL; 4 weeks at most).
    push_ttl_seconds: int = Field(default=3600, ge=0, le=2_419_200)
    # At most this many pushes per user per minute; more are dropped and counted.
    push_per_user_per_minute: int = Field(default=6, ge=1)
    # Messages waiting to be considered for push; a full queue drops (counted), never blocks.
    push_queue_size: int = Field(default=1000, ge=1)
    # Threads posting to push services at once (pywebpush is blocking), and their patience.
    push_concurrency: int = Field(default=4, ge=1, le=64)
    push_timeout_seconds: float = Field(default=10.0, gt=0)
    # 5xx, 429 and network failures are retried this many times, after base * 2**n seconds.
    push_retries: int = Field(default=3, ge=0, le=10)
    push_retry_base_seconds: float = Field(default=1.0, gt=0)
    # false: pushes carry room, sender and id only, never the text.
    push_preview: bool = True
    push_max_subscriptions_per_user: int = Field(default=10, ge=1)
    # Rooms one user may follow for push (PUT /push/follows past it: 409). Every follow is held
    # in each instance's memory and re-read every few seconds, so it must not grow unbounded.
    push_max_follows_per_user: int = Field(default=100, ge=1)
    # The server POSTs wherever a subscription says: only to these push services (host or
    # parent domain), over https. Widen for a self-hosted push service.
    push_endpoint_hosts: list[str] = Field(
        default_factory=lambda: [
            "fcm.googleapis.com",
            "android.googleapis.com",
            "push.services.mozilla.com",
            "push.apple.com",
            "notify.windows.com",
        ]
    )
    # More push-service hosts on top of PUSH_ENDPOINT_HOSTS (a self-hosted push service).
    push_extra_endpoint_hosts: list[str] = Field(default_factory=list)
    # Plain-http endpoints, on any port and on private or loopback addresses: only for a local
    # push-service stand-in (tests, development). Never in production.
    push_allow_http_endpoints: bool = False

    # Operations
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    frontend_dir: str = "frontend"

    @model_validator(mode="after")
    def _redis_url_is_the_broker(self) -> Settings:
        if self.redis_url and "broker_url" not in self.model_fields_set:
            self.broker_url = self.redis_url
        return self

    @model_validator(mode="after")
    def _cluster_shares_one_log(self) -> Settings:
        # Several instances number messages in one shared database (docs/cluster.md); without
        # one, two instances would give the same id to different messages.
        if not self.broker_url.startswith("memory:") and self.database_url in ("", "none"):
            raise ValueError("a redis:// BROKER_URL needs a shared DATABASE_URL (PostgreSQL)")
        return self

    @model_validator(mode="after")
    def _auth_has_a_strong_key(self) -> Settings:
        # Refusing to start beats running "secured" by a secret an attacker can guess.
        if not self.auth_required:
            return self
        if self.jwt_algorithm == "RS256":
            if not self.jwt_public_key_file:
                raise ValueError("AUTH_REQUIRED with RS256 needs JWT_PUBLIC_KEY_FILE")
        elif weak_secret(self.jwt_secret.get_secret_value()):
            raise ValueError(
                f"AUTH_REQUIRED needs a JWT_SECRET of at least {MIN_SECRET_LENGTH} random "
                "characters, not a repetitive one (e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        return self

    @model_validator(mode="after")
    def _vapid_has_a_subject(self) -> Settings:
        # Push services (Apple's in particular) refuse VAPID tokens without a contact.
        subject = self.vapid_subject
        if self.vapid_private_key.get_secret_value() and not (
            (subject.startswith("mailto:") and "@" in subject) or subject.startswith("https://")
        ):
            raise ValueError("VAPID_PRIVATE_KEY needs VAPID_SUBJECT=mailto:you@example.com")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
