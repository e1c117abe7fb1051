"""AuthService: the one object the routes ask about tokens, users, logins, rooms and sessions."""

from __future__ import annotations

from backend.auth.passwords import hash_password, needs_rehash, normalize, verify_password
from backend.auth.ratelimit import LoginLimiter
from backend.auth.rooms import Identity, RoomPolicy
from backend.auth.tokens import Tokens
from backend.auth.users import User, UserStore
from backend.config import Settings


class TooManyAttempts(Exception):
    """Login refused before checking the password; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after}s")
        self.retry_after = retry_after


class AuthService:
    """Settings-driven policy plus the identities of the connections open on this instance."""

    def __init__(self, settings: Settings) -> None:
        self.required = settings.auth_required
        self.registration_open = settings.registration_open
        self.first_frame_timeout = settings.auth_timeout_seconds
        self.tokens = Tokens(settings)
        self.users = UserStore(settings.database_url)
        self.policy = RoomPolicy(settings.private_rooms)
        self.limiter = LoginLimiter(
            settings.login_failures_per_user,
            settings.login_failures_per_address,
            settings.login_window_seconds,
        )
        # Connection key -> identity, for the admin API (kick a user, list connections).
        self.identities: dict[str, Identity] = {}

    async def start(self) -> None:
        await self.users.start()

    async def stop(self) -> None:
        await self.users.stop()

    async def register(self, username: str, password: str) -> User:
        """Create a `user`; raises UsernameTaken or NoUserStore."""
        return await self.users.create(normalize(username), await hash_password(password))

    async def login(self, username: str, password: str, address: str) -> User | None:
        """The user these credentials prove, or None; raises TooManyAttempts when limited."""
        name = normalize(username)
        wait = self.limiter.retry_after(name, address)
        if wait:
            raise TooManyAttempts(wait)
        user = await self.users.get(name)
        if not await verify_password(user.password_hash if user else None, password):
            self.limiter.failed(name, address)
            return None
        assert user is not None  # verify_password is False without a stored hash
        self.limiter.succeeded(name)
        if needs_rehash(user.password_hash):
            await self.users.set_password_hash(name, await hash_password(password))
        return user

    def may_enter(self, identity: Identity, room: str) -> bool:
        return self.policy.allows(identity, room)
