"""Messages, keyed by (room, id).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("room", sa.String(64), primary_key=True),
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=True),
        sa.Column("ts", sa.String(32), nullable=False),
    )
    op.create_index("ix_messages_ts", "messages", ["ts"])


def downgrade() -> None:
    op.drop_index("ix_messages_ts", "messages")
    op.drop_table("messages")
