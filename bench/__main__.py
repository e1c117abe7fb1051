"""`python -m bench`: every scenario against the hub and its peers, in one run; then the table.

`python -m bench` is the full run (under ~10 minutes on 2 cores), `--quick` about a minute,
`--scale smoke --peers hub,websockets --scenarios burst` a few seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.capacity import FEATURES, idle, slow_reader
from bench.cluster import ClusterServer
from bench.loadgen import raise_nofile
from bench.peers import READY, Peer, Server, Target, bun_version, feature_peers, peers
from bench.pool import LoadGen
from bench.report import save, table
from bench.scenarios import SCALES, burst, steady

SCENARIOS = ("burst", "steady", "slow", "idle", *FEATURES)


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_const", const="quick", dest="scale", help="~1 min")
    ap.add_argument("--scale", choices=sorted(SCALES))
    ap.set_defaults(scale="full")
    ap.add_argument("--peers", default=",".join(peers()), help="comma-separated servers")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    ap.add_argument("--modes", default="text,json", help="text and/or json")
    ap.add_argument("--out", type=Path, help="results JSON (default: bench/results/bench-*.json)")
    ap.add_argument("--table", type=Path, help="only print the table of a saved results JSON")
    return ap.parse_args(argv)


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln), "")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node.stdout.strip(),
        "load_average_at_start": os.getloadavg(),
        # Which hub was measured: the commit, and whether backend/ had uncommitted changes.
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "backend_dirty": bool(_git("status", "--porcelain", "backend")),
    }


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def start(peer: Peer) -> Target:
    return ClusterServer(peer) if peer.name == "hub-redis" else Server(peer)


def run(args: argparse.Namespace) -> dict[str, Any]:
    scale = SCALES[args.scale]
    wanted = [s for s in args.scenarios.split(",") if s]
    modes = [m for m in args.modes.split(",") if m]
    servers = {name: peers()[name] for name in args.peers.split(",") if name}
    # Feature scenarios set the hub in other configurations beside it, in the fan-out runs.
    extra = {p.name: p for f, p in feature_peers().items() if f in wanted}
    if extra and "hub" in servers and not {"burst", "steady"} & set(wanted):
        wanted += ["burst", "steady"]
    results: dict[str, Any] = {
        "meta": {
            "scale_name": args.scale,
            "scale": dataclasses.asdict(scale),
            "scenarios": wanted,
            "machine": machine(),
            "started": time.time(),
        },
        "servers": {name: {} for name in [*servers, *extra]},
        "notes": [],
    }

    def note(text: str) -> None:
        print("NOTE:", text, flush=True)
        results["notes"].append(text)

    for name, ready in READY.items():
        if name in servers and (why := ready()) is not None:
            note(f"{name} skipped: {why}")
            del servers[name], results["servers"][name]
    if "bun" in servers:
        results["meta"]["machine"]["bun"] = bun_version()
    lg = LoadGen(scale.workers + 1)
    try:
        for mode in modes:
            for name, peer in {**servers, **extra}.items():
                if not {"burst", "steady"} & set(wanted):
                    break
                if peer.only is not None and not {"burst", "steady"} & set(peer.only):
                    continue
                print(f"[{mode}] {name}: fan-out", flush=True)
                server = start(peer)
                try:
                    out = results["servers"][name].setdefault(mode, {})
                    if "burst" in wanted:
                        out["burst"] = burst(server, lg, scale, mode == "json")
                    if "steady" in wanted:
                        out["steady"] = steady(server, lg, scale, mode == "json")
                except (RuntimeError, TimeoutError, OSError) as exc:
                    # One server failing a scenario must not lose every other figure of the run.
                    note(f"{name} {mode} fan-out failed: {exc!r}")
                    lg.call_all("close")
                finally:
                    server.stop()
        for scenario, fn in (("slow", slow_reader), ("idle", idle)):
            for name, peer in servers.items() if scenario in wanted else ():
                if peer.only is not None and scenario not in peer.only:
                    continue
                print(f"[text] {name}: {scenario}", flush=True)
                server = Server(peer)
                try:
                    results["servers"][name][scenario] = fn(server, lg, scale)
                except (RuntimeError, TimeoutError, OSError) as exc:
                    note(f"{name} {scenario} failed: {exc!r}")
                    lg.call_all("close")
                finally:
                    server.stop()
    finally:
        lg.close()
    results["meta"]["load_average_at_end"] = os.getloadavg()
    results["meta"]["seconds"] = round(time.time() - results["meta"]["started"], 1)
    return results


def main(argv: list[str] | None = None) -> int:
    raise_nofile()
    args = parse(argv)
    if args.table is not None:
        print(table(json.loads(args.table.read_text())))
        return 0
    results = run(args)
    path = save(results, args.out)
    print()
    print(table(results))
    print(f"\nsaved {path} ({results['meta']['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
