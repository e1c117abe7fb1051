"""Brokers, chosen by URL scheme: `memory://` (default) or `redis://` (several instances)."""

from __future__ import annotations

from urllib.parse import urlsplit

from backend.broker.base import Broker, BrokerUnavailable
from backend.messages import Draft, Envelope, Resync


def create_broker(url: str) -> Broker:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from backend.broker.memory import MemoryBroker

        return MemoryBroker()
    if scheme in ("redis", "rediss", "unix"):
        # Imported here so that memory:// users never load the redis package.
        from backend.broker.redis import RedisBroker

        return RedisBroker(url)
    raise ValueError(f"unsupported BROKER_URL scheme {scheme!r}; expected memory:// or redis://")


__all__ = ["Broker", "BrokerUnavailable", "Draft", "Envelope", "Resync", "create_broker"]
