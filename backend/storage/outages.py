"""Which database failures are outages (retry the batch, then `storage_failed`) and which are
the rows' own (split the batch: the refused row gets `invalid_data`)."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# SQLSTATE classes that are the server's or the connection's failure, never the rows': connection
# exception (08), insufficient resources (53), operator intervention (57: "the database system
# is shutting down", "... is starting up"); and two codes a retry resolves (serialization
# failure, deadlock). asyncpg reports some of them as a plain DBAPIError.
_OUTAGE_CLASSES = ("08", "53", "57")
_RETRIED_STATES = ("40001", "40P01")


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


def is_outage(exc: BaseException) -> bool:
    """A failure of the database or the connection, not of these rows (retry, do not split)."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = _sqlstate(exc)
        if state is not None and (state[:2] in _OUTAGE_CLASSES or state in _RETRIED_STATES):
            return True
    # sqlite3's own (the SQLite writer takes its lock without SQLAlchemy): "database is locked"
    # after the busy timeout is a held lock, not these rows' fault.
    return isinstance(
        exc, OperationalError | InterfaceError | OSError | TimeoutError | sqlite3.OperationalError
    )
