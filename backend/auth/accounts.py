"""Does a verified token still speak for a live account? Checked at every way in.

A signature only says who the token was issued to. The account may since have been deleted,
disabled, or had its tokens revoked (logout, password change: `token_version` bumped). Every
verify asks this module, through a cache of `ACCOUNT_CACHE_SECONDS`: a change made on this
instance is seen at once (the cache entry is dropped), one made on another instance within
that bound. Open sockets are re-checked by AuthService's sweeper on the same period.

Which tokens are checked:
- a user's token (claims `uid`, `ver`, issued by POST /auth/token): the account must exist with
  that id, not be disabled, and have that token version;
- a service token (claim `svc`, `python -m backend.auth token`): its name is kept for it in the
  user store when first seen (a row nobody can log in to, which registration and guests' names
  then avoid, look-alikes included); refused if a user has that name or a look-alike (it would
  pose as that user and escape its revocation), or if an admin disabled the service's row;
- a token with neither: issued before accounts had ids, or by another service (RS256 with only
  a public key). Refused when this server issues tokens itself (log in again); accepted when it
  only verifies, unless the name is a disabled account here.
Without a user store (DATABASE_URL=none) there are no accounts to ask: signatures decide.
"""

from __future__ import annotations

import time

from sqlalchemy.exc import SQLAlchemyError

from backend.auth.names import SERVICE_NAME_RULE, confusable_keys, is_service_name
from backend.auth.rooms import Identity
from backend.auth.tokens import InvalidToken
from backend.auth.users import User, UserStore

SERVICE_NAME_TAKEN = "a service token cannot carry a registered user's name, nor a look-alike"

# Names remembered at most: a stream of tokens for distinct names cannot grow memory unbounded.
MAX_CACHED = 50_000
REVOKED = "token revoked"


class AccountsUnavailable(Exception):
    """The user store cannot be asked right now (503): better than guessing either way."""


class Accounts:
    def __init__(self, users: UserStore, issuer: bool, cache_seconds: float) -> None:
        self.users = users
        self.issuer = issuer
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, User | None]] = {}
        # Confusable keys of guest names -> whether a registered name has one of them: a guest
        # handshake asks the database at most once per name per period.
        self._reserved: dict[frozenset[str], tuple[float, bool]] = {}

    async def lookup(self, username: str) -> User | None:
        now = time.monotonic()
        cached = self._cache.get(username)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        try:
            user = await self.users.get(username)
        except (SQLAlchemyError, OSError) as exc:
            raise AccountsUnavailable("the account store is unavailable; retry later") from exc
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()  # rare; every entry is re-read within the bound anyway
        self._cache[username] = (now, user)
        return user

    async def keep_for_service(self, name: str) -> int | None:
        """Keep a service token's name in the user store (UserStore.keep_for_service)."""
        try:
            kept = await self.users.keep_for_service(name, confusable_keys(name))
        except (SQLAlchemyError, OSError) as exc:
            raise AccountsUnavailable("the account store is unavailable; retry later") from exc
        self.forget(name)
        self._reserved.clear()  # guests' answers about its look-alikes change now
        return kept

    def forget(self, username: str) -> None:
        """This instance changed the account: the next check reads it again."""
        self._cache.pop(username, None)
        self._reserved.clear()  # a name registered here is reserved from now on

    async def reserved(self, keys: frozenset[str]) -> bool:
        """Whether a registered user's name has one of these confusable keys (cached)."""
        now = time.monotonic()
        cached = self._reserved.get(keys)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        try:
            found = await self.users.any_with_keys(keys)
        except (SQLAlchemyError, OSError) as exc:
            raise AccountsUnavailable("the account store is unavailable; retry later") from exc
        if len(self._reserved) >= MAX_CACHED:
            self._reserved.clear()
        self._reserved[keys] = (now, found)
        return found

    async def check(self, identity: Identity) -> None:
        """InvalidToken unless the identity's account (if any) still stands behind it."""
        if not identity.authenticated or not self.users.available:
            return
        user = await self.lookup(identity.name)
        if identity.user_id is not None:
            if user is None or user.id != identity.user_id:
                raise InvalidToken("unknown user")
            if user.disabled:
                raise InvalidToken("account disabled")
            if user.token_version != identity.token_version:
                raise InvalidToken(REVOKED)
        elif identity.service:
            if not is_service_name(identity.name):
                # Kept and looked up as usernames are: lowercase, so that one key covers its
                # look-alikes ("Irene" would also read as "lrene"), and short enough for a row.
                raise InvalidToken(SERVICE_NAME_RULE)
            if user is None:
                # First seen: its name is kept for it from now on. Not if a user has it or a
                # look-alike ("eve" beside "eve"): it would pose as that user, as a guest may not.
                version = await self.keep_for_service(identity.name)
                if version is None:
                    raise InvalidToken(SERVICE_NAME_TAKEN)
                if version != identity.token_version:
                    raise InvalidToken(REVOKED)
            elif not user.service:
                raise InvalidToken(SERVICE_NAME_TAKEN)
            elif user.disabled:
                raise InvalidToken("service disabled")
            elif user.token_version != identity.token_version:
                raise InvalidToken(REVOKED)  # an admin revoked its tokens: mint a new one
        elif self.issuer:
            raise InvalidToken("token without an account id: log in again")
        elif user is not None and user.disabled:
            raise InvalidToken("account disabled")
