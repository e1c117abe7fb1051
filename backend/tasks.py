"""Long-lived background tasks under supervision.

The pump, the store's writer, the Redis reader and the heartbeats run for the life of the
process; if one of them dies on an unexpected exception, the hub would go on accepting clients
while delivering nothing. `supervise` runs such a task so that a death is logged with its
trace, makes `/readyz` answer 503 while the task is down (a load balancer then moves clients
away), and the task is started again after a backoff. `stop` cancels and awaits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from backend.backoff import Backoff

log = logging.getLogger("desafio.tasks")

# Names of supervised tasks that died and are waiting to be restarted (read by /readyz).
failing: set[str] = set()


def supervise(name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> asyncio.Task[None]:
    """Run `run()` until it returns or is cancelled; restart it whenever it raises."""

    async def watch() -> None:
        backoff = Backoff(initial=0.1, maximum=5.0)
        while True:
            try:
                await run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                failing.add(name)
                delay = backoff.next()
                log.exception("task %s died; restarting it in %.1fs", name, delay)
                await asyncio.sleep(delay)
                failing.discard(name)

    return asyncio.get_running_loop().create_task(watch(), name=name)


async def stop(*tasks: asyncio.Task[None] | None) -> None:
    """Cancel these tasks and wait until they have ended."""
    running = [task for task in tasks if task is not None and not task.done()]
    for task in running:
        task.cancel()
    if running:
        await asyncio.gather(*running, return_exceptions=True)
