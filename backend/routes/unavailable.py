"""One answer for every HTTP route while the database is down: 503 with Retry-After.

History, login, registration, admin and push routes all reach the database; none of them may
answer a storage outage with a 500 and a traceback. Whatever route it is, the client learns the
same thing: not now, try again in a few seconds.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from backend.storage import StorageError

log = logging.getLogger("desafio.storage")

RETRY_AFTER_SECONDS = 5
# What a database outage raises: ours, and SQLAlchemy's for a refused or lost connection.
OUTAGES = (StorageError, OperationalError, InterfaceError, OSError)


async def storage_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: storage unavailable (%s)", request.method, request.url.path,
                type(exc).__name__)  # fmt: skip
    return JSONResponse(
        {"error": {"code": "storage_unavailable", "detail": "the database is unavailable; retry"}},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
