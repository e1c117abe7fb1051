"""Retention: a background task that deletes what the configured age and count no longer keep."""

from __future__ import annotations

import asyncio
import logging

from backend.storage.base import Store

log = logging.getLogger("desafio.storage")


async def enforce_retention(
    store: Store, max_age_seconds: float, max_per_room: int, interval: float
) -> None:
    """Purge every `interval` seconds until cancelled; a failed round is logged and retried."""
    while True:
        try:
            deleted = await store.purge(max_age_seconds, max_per_room)
            if deleted:
                log.info("retention deleted %d messages", deleted)
        except Exception:  # a database hiccup must not end retention for the process's life
            log.exception("retention round failed")
        await asyncio.sleep(interval)
