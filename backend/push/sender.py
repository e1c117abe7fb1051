"""Posting pushes (RFC 8030/8291/8292 via pywebpush) in a bounded thread pool, with retries.

pywebpush is blocking (requests): it runs only in this module's own threads, so neither the
event loop nor the default executor (Alembic, password hashing) ever waits on a push service.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor

import requests
from pywebpush import WebPushException, webpush
from urllib3.util import Url

from backend.config import Settings
from backend.push.endpoints import BadEndpoint, EndpointPolicy, guarded_session, parse
from backend.push.keys import VapidKey, b64url
from backend.push.metrics import PushMetrics
from backend.push.store import PushStore, Subscription

log = logging.getLogger("desafio.push")

# Push-service answers worth another try: overloaded, rate limited, or a gateway in between.
RETRYABLE = frozenset({429, 500, 502, 503, 504})
GONE = frozenset({404, 410})


class Result(enum.Enum):
    SENT = "sent"
    GONE = "gone"
    RETRY = "retry"
    REJECTED = "rejected"


def audience(url: Url) -> str:
    """RFC 8292 `aud`: the origin of the push resource (as the HTTP client parsed it)."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def topic(room: str) -> str:
    """RFC 8030 Topic (<= 32 base64url chars): a newer push for the room replaces an undelivered
    older one at the push service, so a phone that was off gets one notification, not fifty."""
    return b64url(hashlib.sha256(room.encode()).digest())[:32]


class Sender:
    def __init__(
        self, settings: Settings, key: VapidKey, store: PushStore, metrics: PushMetrics
    ) -> None:
        self.key = key
        self.store = store
        self.metrics = metrics
        self.ttl = settings.push_ttl_seconds
        self.timeout = settings.push_timeout_seconds
        self.retries = settings.push_retries
        self.retry_base = settings.push_retry_base_seconds
        self.policy = EndpointPolicy.from_settings(settings)
        self._pool = ThreadPoolExecutor(settings.push_concurrency, thread_name_prefix="push")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def deliver(self, sub: Subscription, payload: bytes, room: str) -> Result:
        """Send one push, retrying transient failures with exponential backoff."""
        loop = asyncio.get_running_loop()
        for attempt in range(self.retries + 1):
            result = await loop.run_in_executor(self._pool, self._post, sub, payload, room)
            if result is Result.SENT:
                self.metrics.sent.inc()
                return result
            self.metrics.failures.labels(result.value).inc()
            if result is Result.GONE:
                # The browser unsubscribed or the subscription expired: it will never work again.
                await self.store.forget(sub.endpoint)
                log.info("push subscription of %s is gone; deleted", sub.username)
                return result
            if result is Result.REJECTED:
                return result
            if attempt < self.retries:
                # Sleeping holds no thread and no queue slot: other pushes go on meanwhile.
                await asyncio.sleep(self.retry_base * 2**attempt)
        self.metrics.dropped.labels("gave_up").inc()
        log.warning("push to %s gave up after %d attempts", sub.username, self.retries + 1)
        return Result.RETRY

    def _post(self, sub: Subscription, payload: bytes, room: str) -> Result:
        """One POST to the push service (in a pool thread)."""
        try:
            # Checked again before every send: a row stored before today's rules, or rules
            # narrowed since, must not make the server connect anywhere.
            url = parse(sub.endpoint, self.policy)
        except BadEndpoint as exc:
            log.warning("push to %s refused: %s", sub.username, exc)
            return Result.REJECTED
        # A fresh claims dict each time: pywebpush writes `aud` and `exp` into the one it gets.
        claims: dict[str, str | int] = {"sub": self.key.subject, "aud": audience(url)}
        try:
            webpush(
                sub.info(),
                data=payload.decode(),
                vapid_private_key=self.key.signer,
                vapid_claims=claims,
                content_encoding="aes128gcm",
                ttl=self.ttl,
                timeout=self.timeout,
                headers={"Topic": topic(room), "Urgency": "normal"},
                # Connections only to checked public addresses, no redirects, no env proxies.
                requests_session=guarded_session(self.policy.development),
            )
        except WebPushException as exc:
            status = exc.status_code
            # The endpoint's path is a bearer capability: log the status, not the URL or body.
            log.debug("push to %s answered %s", sub.username, status)
            if status in GONE:
                return Result.GONE
            if status is None or status in RETRYABLE:
                return Result.RETRY
            log.warning("push to %s rejected with %s", sub.username, status)
            return Result.REJECTED
        except requests.TooManyRedirects:
            log.warning("push to %s answered with a redirect; not followed", sub.username)
            return Result.REJECTED
        except requests.RequestException as exc:
            log.debug("push to %s failed: %s", sub.username, type(exc).__name__)
            return Result.RETRY
        return Result.SENT
