"""`python -m backend.auth`: mint a service token, or set a user's role (uses the settings).

Examples: `python -m backend.auth token alerts-bot --role admin --ttl 86400` prints a service
token (claim `svc`: a bot with no account; refused without the server's JWT_SECRET or RS256
private key, or if the name is a registered user's or looks like one; the name is then kept for
the service in the database, so that nobody registers it later);
`python -m backend.auth role ana admin` makes the registered user `ana` an admin.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from backend.auth.names import SERVICE_NAME_RULE, confusable_keys, is_service_name
from backend.auth.passwords import normalize
from backend.auth.tokens import Tokens
from backend.auth.users import UserStore
from backend.config import MIN_SECRET_LENGTH, Settings, get_settings, weak_secret


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
    try:
        settings = get_settings()
    except ValidationError as exc:  # names the setting, never its value (hide_input_in_errors)
        sys.stderr.write(f"the settings are invalid: {exc}\n")
        return 2
    if args.command == "token":
        problem = _no_signing_key(settings)
        if problem:
            # A token signed with a throwaway key would verify nowhere: refuse, and say why.
            sys.stderr.write(problem + "\n")
            return 2
        if not is_service_name(args.subject):
            sys.stderr.write(f"cannot mint a token: {SERVICE_NAME_RULE}\n")
            return 2
        version = asyncio.run(_keep_for_service(settings.database_url, args.subject))
        if version is None:
            sys.stderr.write(f"cannot mint a token: {args.subject!r} is a user's name, or looks "
                             "like one (the service would pose as that user)\n")  # fmt: skip
            return 1
        tokens = Tokens(settings)
        rooms = args.rooms.split(",") if args.rooms else None
        token, _ = tokens.issue(args.subject, args.role, rooms, args.ttl, version=version)
        sys.stdout.write(token + "\n")
        return 0
    return asyncio.run(_set_role(settings.database_url, normalize(args.username), args.role))


def _no_signing_key(settings: Settings) -> str | None:
    """Why this configuration cannot mint a token the server would accept, or None."""
    if settings.jwt_algorithm == "RS256":
        if not settings.jwt_private_key_file:
            return "cannot mint a token: JWT_ALGORITHM=RS256 needs JWT_PRIVATE_KEY_FILE"
        return None
    if weak_secret(settings.jwt_secret.get_secret_value()):
        return (
            "cannot mint a token: JWT_SECRET is unset or weak (it must be the server's own, "
            f"at least {MIN_SECRET_LENGTH} random characters)"
        )
    return None


async def _keep_for_service(url: str, name: str) -> int | None:
    """Keep the name for the service now, so that nobody registers it before its first use;
    its token version, or None if a user has it (or a look-alike)."""
    store = UserStore(url)
    if not store.available:
        return 0  # no accounts: nobody could take it
    try:
        await store.start()
        try:
            return await store.keep_for_service(name, confusable_keys(name))
        finally:
            await store.stop()
    except (SQLAlchemyError, OSError) as exc:
        # The server keeps it at its first use, or refuses the token if a user has it by then.
        sys.stderr.write(f"the name could not be kept now ({type(exc).__name__}): minting anyway\n")
        return 0


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
