"""Fault suites: seeds and scale. `make test` runs a small scale; `make faults` sets
FAULT_SEEDS (and FAULT_SECONDS) higher for a long soak. A failing seed is a bug to fix."""

from __future__ import annotations

import os
import zlib

# How many seeds each fault test runs, and how long each publishing phase lasts.
SEEDS = int(os.environ.get("FAULT_SEEDS", "1"))
SECONDS = float(os.environ.get("FAULT_SECONDS", "1.5"))


def _random_base() -> int:
    """Random per run. Under pytest-xdist every worker collects the tests, and all must see the
    same seeds (they are in the test ids): the run's id, one for all workers, is the random."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return zlib.crc32(run.encode()) % 2**16 if run else int.from_bytes(os.urandom(2), "big")


# Seeds differ between runs unless FAULT_SEED_BASE pins them (to replay a failure).
BASE = int(os.environ.get("FAULT_SEED_BASE", str(_random_base())))


def seeds() -> list[int]:
    return [BASE + n for n in range(SEEDS)]
