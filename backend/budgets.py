"""Counting connections in total and per client address, and the token buckets of a socket.

Two counters use `Occupancy`: the HTTP protocol (backend/gate.py) counts every TCP connection
from accept to close, and the `/ws` route counts every WebSocket session from its handshake to
its end, pending logins included, by the address uvicorn reports (after a trusted proxy's
X-Forwarded-For). The first one runs only under `python -m backend`; the second one everywhere.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections import Counter
from dataclasses import dataclass, field

# What a refused client gets: HTTP status, error code, detail.
Refusal = tuple[int, str, str]


class Proxies:
    """FORWARDED_ALLOW_IPS: addresses and networks, comma-separated, or "*" for any peer."""

    def __init__(self, spec: str) -> None:
        entries = [part.strip() for part in spec.split(",") if part.strip()]
        self.anyone = "*" in entries
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.names: set[str] = set()  # anything that is not an address (a unix socket path)
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.add(entry)
        # Asked once per connection and request: parsing the address each time was a few
        # percent of a connect. Bounded: addresses are the client's to choose.
        self._seen: dict[str, bool] = {}

    def trusted(self, address: str | None) -> bool:
        if address is None:
            return False
        if self.anyone or address in self.names:
            return True
        known = self._seen.get(address)
        if known is None:
            known = self._check(address)
            if len(self._seen) >= 4096:
                self._seen.clear()
            self._seen[address] = known
        return known

    def _check(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


@dataclass
class Occupancy:
    """How many are in, in total and per address; `enter` refuses past either limit."""

    max_total: int
    max_per_address: int
    # Addresses not limited per address here (a reverse proxy's: it carries many clients).
    exempt: Proxies = field(default_factory=lambda: Proxies(""))
    total: int = 0
    by_address: dict[str, int] = field(default_factory=dict)

    def refusal(self, address: str | None) -> Refusal | None:
        """Why one more from `address` may not come in, if it may not."""
        if self.total >= self.max_total:
            return (503, "unavailable", "server is at capacity; retry later")
        crowded = self.by_address.get(address or "", 0) >= self.max_per_address
        if crowded and not self.exempt.trusted(address):
            limit = self.max_per_address
            return (429, "too_many_connections", f"at most {limit} connections per address")
        return None

    def enter(self, address: str | None) -> Refusal | None:
        """Count one more from `address`, or say why not (then nothing is counted)."""
        refused = self.refusal(address)
        if refused is None:
            self.total += 1
            key = address or ""
            self.by_address[key] = self.by_address.get(key, 0) + 1
        return refused

    def leave(self, address: str | None) -> None:
        self.total -= 1
        key = address or ""
        left = self.by_address.get(key, 1) - 1
        if left > 0:
            self.by_address[key] = left
        else:  # an address with nobody in must not keep an entry: the map stays bounded
            self.by_address.pop(key, None)


class Place:
    """One place held in an `Occupancy` by one client, given back at most once by calling it.

    What a socket keeps for its whole life, so it is one small object: a
    `partial(occupancy.leave, address)` is four (the partial, its arguments, its keywords and
    the bound method), ~250 B per idle connection, and three of them were a tenth of one.
    """

    __slots__ = ("_address", "_occupancy")

    def __init__(self, occupancy: Occupancy, address: str | None) -> None:
        self._occupancy: Occupancy | None = occupancy
        self._address = address

    def __call__(self) -> None:
        occupancy, self._occupancy = self._occupancy, None
        if occupancy is not None:
            occupancy.leave(self._address)


class Bucket:
    """A token bucket: `rate` per second, at most `burst` saved up."""

    __slots__ = ("burst", "rate", "stamp", "tokens")  # two per connection: kept small

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def allow(self, cost: float = 1.0) -> bool:
        """Take `cost` tokens if there are that many."""
        self._refill()
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def spend(self, cost: float) -> float:
        """Take `cost` tokens even into debt; the seconds until the debt is paid back (or 0)."""
        self._refill()
        self.tokens -= cost
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class RequestRates:
    """A token bucket per client address, for the addresses seen most recently: at most `keep`
    of them (forgetting an idle one loses nothing; its bucket would be full again)."""

    def __init__(self, rate: float, burst: int, keep: int = 10_000) -> None:
        self.rate = rate
        self.burst = burst
        self.keep = keep
        self.buckets: dict[str, Bucket] = {}

    def allow(self, address: str) -> bool:
        bucket = self.buckets.pop(address, None)
        if bucket is None:
            bucket = Bucket(self.rate, self.burst)
            if len(self.buckets) >= self.keep:
                del self.buckets[next(iter(self.buckets))]  # the least recently seen
        self.buckets[address] = bucket  # most recently seen last
        return bucket.allow()


class Tally:
    """Refusals by reason, logged as one summary line at most every `every` seconds: an attack
    is visible in the log without writing a line per refused socket (the log is a budget too)."""

    def __init__(self, logger: logging.Logger, every: float = 10.0) -> None:
        self.logger = logger
        self.every = every
        self.counts: Counter[str] = Counter()
        self.last = -every

    def add(self, reason: str) -> None:
        self.counts[reason] += 1
        now = time.monotonic()
        if now - self.last >= self.every:
            summary = ", ".join(f"{reason} x{n}" for reason, n in sorted(self.counts.items()))
            self.logger.warning("budgets: refused since the last report: %s", summary)
            self.counts.clear()
            self.last = now
