"""The tables. Alembic migrations (migrations/versions) create them; this is their Python face."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, MetaData, String, Table, Text

metadata = MetaData()

messages = Table(
    "messages",
    metadata,
    # (room, id) is the primary key: it is also the index "messages of room R after/before id X".
    Column("room", String(64), primary_key=True),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("sender", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("data", JSON, nullable=True),
    # ISO-8601 UTC with milliseconds, as sent on the wire: compares in time order as a string.
    Column("ts", String(32), nullable=False, index=True),
)

users = Table(
    "users",
    metadata,
    # Stored lowercase (backend/auth/passwords.normalize): the name is the identity.
    Column("username", String(32), primary_key=True),
    # Argon2id in PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
)

# Web Push (migration 0003, backend/push/store.py). No foreign key to users: tokens issued by
# another service (RS256) name users this database has never seen.
push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    # A browser's subscription belongs to whoever registered it last (one endpoint, one owner).
    Column("endpoint", String(2048), primary_key=True),
    Column("username", String(32), nullable=False, index=True),
    # The browser's P-256 public key and auth secret (base64url), for RFC 8291 encryption.
    Column("p256dh", String(128), nullable=False),
    Column("auth", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
)

push_follows = Table(
    "push_follows",
    metadata,
    Column("username", String(32), primary_key=True),
    Column("room", String(64), primary_key=True),
    Column("created_at", String(32), nullable=False),
)
