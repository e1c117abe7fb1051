"""Fault suites: seeds and scale. `make test` runs a small scale; `make faults` sets
FAULT_SEEDS (and FAULT_SECONDS) higher for a long soak. A failing seed is a bug to fix."""

from __future__ import annotations

import os

# How many seeds each fault test runs, and how long each publishing phase lasts.
SEEDS = int(os.environ.get("FAULT_SEEDS", "1"))
SECONDS = float(os.environ.get("FAULT_SECONDS", "1.5"))
# Seeds differ between runs unless FAULT_SEED_BASE pins them (to replay a failure).
BASE = int(os.environ.get("FAULT_SEED_BASE", str(int.from_bytes(os.urandom(2), "big"))))


def seeds() -> list[int]:
    return [BASE + n for n in range(SEEDS)]
