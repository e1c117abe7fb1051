"""The tables. Alembic migrations (migrations/versions) create them; this is their Python face."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

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
    # Who published it (backend/identity.py: u:<user id> or g:<hex>) and the client's ref: a
    # resent (room, sender_id, ref) resolves to this row instead of storing a second copy.
    Column("sender_id", String(80), nullable=True),
    Column("ref", String(64), nullable=True),
    # Migration 0006: an entry is a message, or an amendment ("edit"/"delete") of message
    # `target`; a message later amended keeps its edit time and whether it was deleted.
    Column("kind", String(8), nullable=False, server_default="message"),
    Column("target", BigInteger, nullable=True),
    Column("edited_at", String(32), nullable=True),
    Column("deleted", Boolean, nullable=False, server_default=false()),
    # Migration 0008: what the operation behind `ref` asked for (messages.content_digest), so
    # that a resend asking something else is refused (`ref_reused`), not acked.
    Column("digest", String(32), nullable=True),
    Index("ux_messages_ref", "room", "sender_id", "ref", unique=True),
)

# One row per room that ever had a message: the last id given out, advanced in the transaction
# that stores the messages (migration 0004). Never deleted, so ids outlive retention.
room_log = Table(
    "room_log",
    metadata,
    Column("room", String(64), primary_key=True),
    Column("last_id", BigInteger, nullable=False),
)

# Facts about the whole log (migration 0004): `epoch`, random, names this database's log, so a
# `since` from another database (a reset, a restore, a replacement) is known to be void.
log_meta = Table(
    "log_meta",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("value", String(64), nullable=False),
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
    # Migration 0005 (backend/auth/users.py): random and never reused, the token's `uid`.
    Column("id", String(32), nullable=False),
    # The token's `ver`: logout and password changes bump it, refusing every older token.
    Column("token_version", Integer, nullable=False, server_default="0"),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    # UTS #39 skeleton of the username (backend/auth/names.confusable_key), for guest names;
    # unique (migration 0007): one account per look-alike key, however registrations race.
    Column("name_key", String(128), nullable=False),
    Index("ux_users_id", "id", unique=True),
    Index("ux_users_name_key", "name_key", unique=True),
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
