"""Accounts: a stable user id, a token version (revocation), disabling, a confusable-name key.

- `id`: random, never reused. Tokens carry it as `uid`: a user deleted and registered again
  under the same name is a new user, and the old tokens do not pass as theirs.
- `token_version`: tokens carry it as `ver`; logout and password changes bump it, and every
  token with an older version is refused.
- `disabled`: set by an admin; the user's tokens are refused and logins fail.
- `name_key`: the UTS #39 skeleton of the username (backend/auth/names.confusable_key), so that
  a guest cannot take a name that looks like a registered one.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

from backend.auth.names import confusable_key

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("token_version", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("name_key", sa.String(128), nullable=True))
    users = sa.table(
        "users", sa.column("username", sa.String), sa.column("id"), sa.column("name_key")
    )
    conn = op.get_bind()
    for (username,) in conn.execute(sa.select(users.c.username)).all():
        conn.execute(
            users.update()
            .where(users.c.username == username)
            .values(id=secrets.token_hex(8), name_key=confusable_key(username))
        )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("id", existing_type=sa.String(32), nullable=False)
        batch.alter_column("name_key", existing_type=sa.String(128), nullable=False)
        batch.create_index("ux_users_id", ["id"], unique=True)
        batch.create_index("ix_users_name_key", ["name_key"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_name_key")
        batch.drop_index("ux_users_id")
        batch.drop_column("name_key")
        batch.drop_column("disabled")
        batch.drop_column("token_version")
        batch.drop_column("id")
