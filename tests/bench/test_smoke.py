"""The benchmark harness runs end to end, at a tiny scale, against the real server and one peer.

No timing is asserted (this machine's numbers mean nothing at this size): only that every
scenario ran, every message was counted, and the results JSON and table came out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# It loads both cores itself (servers, peers, load), and its slow reader must not lose a message.
@pytest.mark.serial
def test_bench_smoke_run(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "smoke", "--peers", "hub,websockets",
         "--scenarios", "burst,steady,slow,idle,storage,redis", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "| burst text, 5 subs: deliveries/s |" in done.stdout

    results = json.loads(out.read_text())
    # The feature scenarios set the hub with storage off, and as two instances over Redis,
    # beside the hub as shipped.
    assert set(results["servers"]) == {"hub", "websockets", "hub-nostore", "hub-redis"}
    assert "hub/hub-nostore" in done.stdout and "hub/hub-redis" in done.stdout
    for name, result in results["servers"].items():
        for mode in ("text", "json"):
            (row,) = result[mode]["burst"]
            assert row["median_run"]["deliveries"] == row["expected"], (name, mode)
            (rate,) = result[mode]["steady"]["rates"]
            assert rate["delivered"] == rate["expected"] > 0, (name, mode)
    for name in ("hub", "websockets"):  # slow reader and idle: the shipped servers only
        assert results["servers"][name]["slow"]["healthy_delivered_ratio"] == 1.0, name
        assert results["servers"][name]["idle"][0]["connections"] == 20, name
    assert results["notes"] == []


@pytest.mark.serial
def test_the_floor_peer_is_measured_on_connections_only(tmp_path: Path) -> None:
    # bench.peer_floor answers upgrades and nothing else: a fan-out run against it would fail,
    # so the bench must ask it for the idle scenario alone, and its connections must open.
    out = tmp_path / "floor.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "smoke", "--peers", "floor,floor-nogc",
         "--scenarios", "burst,idle", "--modes", "text", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads(out.read_text())
    for name in ("floor", "floor-nogc"):
        assert set(results["servers"][name]) == {"idle"}, name
        (row,) = results["servers"][name]["idle"]
        assert row["connections"] == 20 and row["connect_per_second"] > 0, name
    assert results["notes"] == []
