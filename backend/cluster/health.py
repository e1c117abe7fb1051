"""Whether Redis answers, and how long to wait before asking again."""

from __future__ import annotations

import logging

log = logging.getLogger("desafio.cluster")


class Health:
    """The last verdict of any Redis call; logs only the changes, so an outage is two lines."""

    def __init__(self) -> None:
        self.up = False
        # A call has failed and none has succeeded since (not merely "not yet asked"): calls on
        # a client's path skip Redis meanwhile rather than each wait out its timeout.
        self.down = False
        self._outage_logged = False

    def ok(self) -> bool:
        """Record a success; True when this ends an outage (callers then repair shared state)."""
        recovered = not self.up
        self.up = True
        self.down = False
        if recovered and self._outage_logged:
            log.warning("redis reachable again")
            self._outage_logged = False
        return recovered

    def failed(self, doing: str, exc: BaseException) -> None:
        self.up = False
        self.down = True
        if not self._outage_logged:
            log.warning("redis unreachable while %s: %r; retrying with backoff", doing, exc)
            self._outage_logged = True
