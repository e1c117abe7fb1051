"""Edits and deletes: amendments are entries of the room's log, and the message keeps its state.

`kind` says what an entry is: "message" (every row before this migration), or "edit"/"delete" of
message `target` (its id in the same room). The amended message's row holds the outcome, so
history and late joiners see it without replaying amendments: `edited_at` (when it was last
edited) and `deleted` (its text and data are then emptied).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="message"))
        batch.add_column(sa.Column("target", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("edited_at", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("deleted")
        batch.drop_column("edited_at")
        batch.drop_column("target")
        batch.drop_column("kind")
