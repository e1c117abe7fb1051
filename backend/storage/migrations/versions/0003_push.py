"""Web Push: browsers' subscriptions per user, and the rooms each user follows.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("endpoint", sa.String(2048), primary_key=True),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("p256dh", sa.String(128), nullable=False),
        sa.Column("auth", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_push_subscriptions_username", "push_subscriptions", ["username"])
    op.create_table(
        "push_follows",
        sa.Column("username", sa.String(32), primary_key=True),
        sa.Column("room", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("push_follows")
    op.drop_index("ix_push_subscriptions_username", "push_subscriptions")
    op.drop_table("push_subscriptions")
