"""Web Push (docs/push.md): VAPID keys, subscriptions and follows, and the notifier."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from backend.auth.service import AuthService
from backend.config import Settings
from backend.metrics import Metrics
from backend.push.keys import VapidKey
from backend.push.metrics import PushMetrics
from backend.push.online import Online
from backend.push.store import PushStore

if TYPE_CHECKING:
    from backend.push.notifier import Notifier
    from backend.push.sender import Sender

log = logging.getLogger("desafio.push")


class PushService:
    """Everything push needs, started after the hub (whose store has run the migrations)."""

    sender: Sender
    notifier: Notifier

    def __init__(self, settings: Settings, auth: AuthService, metrics: Metrics) -> None:
        # Imported here, only when push is configured: the sender pulls in pywebpush and aiohttp
        # (~0.1 s), which a server without a VAPID key (most of them, every test server) never uses.
        from backend.push.notifier import Notifier
        from backend.push.sender import Sender

        self.settings = settings
        self.key = VapidKey(settings.vapid_private_key.get_secret_value(), settings.vapid_subject)
        self.store = PushStore(settings.database_url)
        self.metrics = PushMetrics(metrics.registry)
        self.sender = Sender(settings, self.key, self.store, self.metrics)
        redis_url = settings.broker_url if settings.broker_url.startswith("redis") else None
        self.online = Online(auth.identities, redis_url)
        self.notifier = Notifier(settings, auth, self.store, self.sender, self.online, self.metrics)

    async def start(self) -> None:
        await self.store.start()
        await self.online.start()
        await self.notifier.start()

    async def stop(self) -> None:
        await self.notifier.stop()
        await self.online.stop()
        self.sender.close()
        await self.store.stop()


def create_push(settings: Settings, auth: AuthService, metrics: Metrics) -> PushService | None:
    """None (push disabled) without a VAPID key or without a database to keep subscriptions."""
    if not settings.vapid_private_key.get_secret_value():
        return None
    if settings.database_url in ("", "none"):
        log.warning("VAPID_PRIVATE_KEY is set but DATABASE_URL=none: push notifications are off")
        return None
    return PushService(settings, auth, metrics)
