"""Brokers, chosen by URL scheme: `memory://` (default) or `redis://` (several instances)."""

from __future__ import annotations

from urllib.parse import urlsplit

from backend.broker.base import Broker, Draft, Envelope


def create_broker(url: str) -> Broker:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from backend.broker.memory import MemoryBroker

        return MemoryBroker()
    raise ValueError(f"unsupported BROKER_URL scheme {scheme!r}; expected memory://")


__all__ = ["Broker", "Draft", "Envelope", "create_broker"]
