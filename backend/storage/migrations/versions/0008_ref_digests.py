"""A ref names one operation, content included: `messages.digest`.

The digest (backend/messages.content_digest) of what the operation behind a row's `ref` asked
for: its kind, target, text and data. A resend with the same ref asking for anything else is
refused with `ref_reused` instead of being acked with the first one's id. It is kept apart from
`text` because edits and deletes change the row's text later. Rows stored before this migration
have none and are compared on kind and target alone, as before.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("digest", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("digest")
