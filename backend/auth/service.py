"""AuthService: the one object the routes ask about tokens, users, logins, rooms and sessions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from backend.auth.accounts import REVOKED, Accounts
from backend.auth.names import confusable_keys
from backend.auth.passwords import HashBudget, HashBusy, needs_rehash, normalize
from backend.auth.ratelimit import LoginLimiter, RegistrationLimiter
from backend.auth.rooms import Identity, RoomPolicy
from backend.auth.tokens import InvalidToken, Tokens
from backend.auth.users import User, UsernameTaken, UserStore
from backend.closecodes import CloseCode
from backend.config import Settings

log = logging.getLogger("desafio.auth")

Closer = Callable[[int, str], None]


class TooManyAttempts(Exception):
    """Refused before any password work; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int, what: str = "failed logins") -> None:
        super().__init__(f"too many {what}; retry in {retry_after}s")
        self.retry_after = retry_after


class AuthService:
    """Settings-driven policy plus the identities of the connections open on this instance."""

    def __init__(self, settings: Settings) -> None:
        self.required = settings.auth_required
        self.registration_open = settings.registration_open
        self.first_frame_timeout = settings.auth_timeout_seconds
        self.tokens = Tokens(settings)
        self.users = UserStore(settings.database_url)
        self.accounts = Accounts(self.users, self.tokens.can_issue, settings.account_cache_seconds)
        self.policy = RoomPolicy(settings.private_rooms)
        self.hashing = HashBudget(settings.password_hash_concurrency, settings.password_hash_queue)
        self.limiter = LoginLimiter(
            settings.login_failures_per_user,
            settings.login_failures_per_address,
            settings.login_window_seconds,
        )
        self.registrations = RegistrationLimiter(
            settings.registrations_per_address_per_hour, settings.registrations_per_hour
        )
        # Connection key -> identity, for the admin API (kick a user, list connections).
        self.identities: dict[str, Identity] = {}
        # Connection key -> how to close it: revoked accounts' sockets are closed (4001).
        self.closers: dict[str, Closer] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.users.start()
        if self.users.available:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="accounts")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        self.hashing.close()
        await self.users.stop()

    async def verify(self, token: str) -> Identity:
        """The identity a token proves *and* whose account still stands, or InvalidToken."""
        identity = self.tokens.verify(token)
        await self.accounts.check(identity)
        return identity

    def issue(self, user: User) -> tuple[str, int]:
        return self.tokens.issue(
            user.username, user.role, user_id=user.id, version=user.token_version
        )

    async def register(self, username: str, password: str, address: str) -> User | None:
        """Create a `user`; None when the name (or a confusable one) is taken. Raises
        TooManyAttempts, HashBusy or NoUserStore. The hash is made either way, so that a taken
        name answers in the same time as a free one."""
        wait = self.registrations.attempt(address)
        if wait:
            raise TooManyAttempts(wait, "registrations")
        password_hash = await self.hashing.hash_password(password)
        try:
            user = await self.users.create(normalize(username), password_hash)
        except UsernameTaken:
            return None
        self.accounts.forget(user.username)  # a cached "no such user" must not outlive this
        return user

    async def login(self, username: str, password: str, address: str) -> User | None:
        """The user these credentials prove, or None; raises TooManyAttempts when limited."""
        name = normalize(username)
        wait, stamp = self.limiter.attempt(name, address)  # counted before the hash is checked
        if wait:
            raise TooManyAttempts(wait)
        user = await self.users.get(name)
        if user is not None and user.disabled:
            user = None  # checked like a wrong password: the same time, the same answer
        try:
            ok = await self.hashing.verify_password(user.password_hash if user else None, password)
        except HashBusy:
            self.limiter.refused(name, address, stamp)  # no guess was checked: none is counted
            raise
        if not ok:
            return None
        assert user is not None  # verify_password is False without a stored hash
        self.limiter.succeeded(name, address, stamp)
        if needs_rehash(user.password_hash):
            await self.users.set_password_hash(name, await self.hashing.hash_password(password))
        return user

    async def change_password(self, identity: Identity, old: str, new: str, address: str) -> bool:
        """Check `old` (limited like a login), store `new`, revoke every token of the user."""
        if await self.login(identity.name, old, address) is None:
            return False
        new_hash = await self.hashing.hash_password(new)
        await self.users.set_password_hash(identity.name, new_hash, revoke=True)
        self.revoked(identity.name)
        return True

    async def logout(self, identity: Identity) -> None:
        """Revoke every token of the user (all devices): the bearer's included."""
        if identity.user_id is None:
            return  # a service token has no account to revoke through
        await self.users.revoke_tokens(identity.name)
        self.revoked(identity.name)

    def revoked(self, username: str) -> int:
        """The account changed here: forget the cached view, close its sockets on this instance."""
        self.accounts.forget(username)
        closed = 0
        for key, identity in list(self.identities.items()):
            closer = self.closers.get(key)
            if identity.authenticated and identity.name == username and closer is not None:
                closer(CloseCode.TOKEN_EXPIRED, REVOKED)
                closed += 1
        return closed

    async def name_reserved(self, name: str) -> bool:
        """A guest's name that is, or looks like, a registered user's name."""
        if not self.users.available:
            return False
        return await self.accounts.reserved(confusable_keys(name))

    def may_enter(self, identity: Identity, room: str) -> bool:
        return self.policy.allows(identity, room)

    async def _sweep(self) -> None:
        """Re-check the accounts behind open sockets: changes made on other instances close
        them within ACCOUNT_CACHE_SECONDS (plus one period of this loop)."""
        while True:
            await asyncio.sleep(self.accounts.cache_seconds)
            for key, identity in list(self.identities.items()):
                closer = self.closers.get(key)
                if closer is None or not identity.authenticated:
                    continue
                try:
                    await self.accounts.check(identity)
                except InvalidToken as exc:
                    closer(CloseCode.TOKEN_EXPIRED, exc.detail)
                except Exception:  # the database may be away: keep the sockets, try again
                    log.warning("re-checking the accounts of open sockets failed", exc_info=True)
                    break
