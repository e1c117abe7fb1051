"""`python -m backend.auth`: mint a service token, or set a user's role (uses the settings).

Examples: `python -m backend.auth token alerts-bot --role admin --ttl 86400` prints a token;
`python -m backend.auth role ana admin` makes the registered user `ana` an admin.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from backend.auth.passwords import normalize
from backend.auth.tokens import Tokens
from backend.auth.users import UserStore
from backend.config import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    mint = commands.add_parser("token", help="print a signed token (for bots and services)")
    mint.add_argument("subject")
    mint.add_argument("--role", choices=("user", "admin"), default="user")
    mint.add_argument("--rooms", help="comma-separated allow-list of rooms")
    mint.add_argument("--ttl", type=int, help="seconds (default TOKEN_TTL_SECONDS)")
    role = commands.add_parser("role", help="promote or demote a registered user")
    role.add_argument("username")
    role.add_argument("role", choices=("user", "admin"))
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "token":
        tokens = Tokens(settings)
        rooms = args.rooms.split(",") if args.rooms else None
        token, _ = tokens.issue(args.subject, args.role, rooms, args.ttl)
        sys.stdout.write(token + "\n")
        return 0
    return asyncio.run(_set_role(settings.database_url, normalize(args.username), args.role))


async def _set_role(url: str, username: str, role: str) -> int:
    store = UserStore(url)
    await store.start()
    try:
        changed = await store.set_role(username, "admin" if role == "admin" else "user")
    finally:
        await store.stop()
    if not changed:
        sys.stderr.write(f"no such user: {username}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
