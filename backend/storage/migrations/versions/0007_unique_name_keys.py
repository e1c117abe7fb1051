"""One account per look-alike key: `users.name_key` becomes unique.

Registration read the key, then inserted: two registrations of look-alike names at the same
moment ("coooo" and "coo00") could both pass the read and both be stored. The database now
refuses the second (backend/auth/users.UserStore.create answers it as a taken name).

A database that already holds such twins keeps them: the later rows (by creation time, then
username) get their key suffixed with their id, so the first keeps guarding the name and the
others can still log in. Nothing is deleted.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None

users = sa.table(
    "users",
    sa.column("username", sa.String),
    sa.column("id", sa.String),
    sa.column("name_key", sa.String),
    sa.column("created_at", sa.String),
)


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(users.c.username, users.c.id, users.c.name_key).order_by(
            users.c.name_key, users.c.created_at, users.c.username
        )
    ).all()
    seen: set[str] = set()
    for username, user_id, key in rows:
        if key in seen:
            twin_key = f"{key[:100]}#{user_id}"
            conn.execute(
                users.update().where(users.c.username == username).values(name_key=twin_key)
            )
        seen.add(key)
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_name_key")
        batch.create_index("ux_users_name_key", ["name_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ux_users_name_key")
        batch.create_index("ix_users_name_key", ["name_key"])
