"""The message log: one sequence row per room, and the author's identity and ref on each message.

`room_log.last_id` is advanced in the same transaction that inserts the room's messages, so ids
are dense, assigned only to committed messages, and never reused (not after a crash, not after
retention deletes every message of a room). `log_meta`'s `epoch` names this database's log; a
client that recovers with another epoch's ids (a reset or replaced database) is told its offsets
are void. `(room, sender_id, ref)` is unique: a
resent ref resolves to the stored message, across restarts and instances.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    room_log = op.create_table(
        "room_log",
        sa.Column("room", sa.String(64), primary_key=True),
        sa.Column("last_id", sa.BigInteger, nullable=False),
    )
    log_meta = op.create_table(
        "log_meta",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(64), nullable=False),
    )
    op.bulk_insert(log_meta, [{"key": "epoch", "value": secrets.token_hex(8)}])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("sender_id", sa.String(80), nullable=True))
        batch.add_column(sa.Column("ref", sa.String(64), nullable=True))
        batch.create_index("ux_messages_ref", ["room", "sender_id", "ref"], unique=True)
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT room, MAX(id) FROM messages GROUP BY room")).all()
    if rows:
        op.bulk_insert(
            room_log,
            [{"room": r, "last_id": int(m)} for r, m in rows],
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ux_messages_ref")
        batch.drop_column("ref")
        batch.drop_column("sender_id")
    op.drop_table("log_meta")
    op.drop_table("room_log")
