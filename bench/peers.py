"""The servers under test: this hub and the peers it is compared with, each a child process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# The binary the npm package `bun` links there (its postinstall puts the native build in place).
BUN = BENCH / "node_modules" / ".bin" / "bun"

# Settings every hub run gets: limits out of the way of a benchmark, and no keepalive pings (no
# server in the bench pings, so idle memory and the generator compare like with like).
HUB_ENV = {
    "HOST": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
    "RATE_LIMIT_PER_SECOND": "1000000",
    "RATE_LIMIT_BURST": "1000000",
    "INBOUND_BYTES_PER_SECOND": str(1 << 30),
    "INBOUND_BYTES_BURST": str(1 << 30),
    "MAX_CONNECTIONS": "20000",
    "WS_PING_INTERVAL": "0",
}


NAIVE_ARGS = ("bench.peer_naive:app", "--host", "127.0.0.1", "--log-level", "warning",
              "--ws-ping-interval", "0")  # fmt: skip


@dataclass(frozen=True)
class Peer:
    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    # The scenarios it serves, when not all of them (the floor peers answer connections only).
    only: tuple[str, ...] | None = None


def peers() -> dict[str, Peer]:
    py = sys.executable
    return {
        "hub": Peer("hub", (py, "-m", "backend"), HUB_ENV),
        "node-ws": Peer("node-ws", ("node", str(BENCH / "peer_node.js"))),
        # --no-env-file: Bun would otherwise read a .env in the working directory (the hub's).
        "bun": Peer("bun", (str(BUN), "--no-env-file", str(BENCH / "peer_bun.js"))),
        "websockets": Peer("websockets", (py, "-m", "bench.peer_websockets")),
        "naive-fastapi": Peer("naive-fastapi", (py, "-m", "uvicorn", *NAIVE_ARGS)),
        # The ceiling of the hub's connects/s: uvicorn + websockets' handshake, nothing else.
        "floor": Peer("floor", (py, "-m", "bench.peer_floor"), only=("idle",)),
        "floor-nogc": Peer(
            "floor-nogc", (py, "-m", "bench.peer_floor"), {"FLOOR_GC": "off"}, only=("idle",)
        ),
    }


def feature_peers() -> dict[str, Peer]:
    """The hub in other configurations, run by the `storage` and `redis` scenarios."""
    py = sys.executable
    return {
        # The same hub with storage off: `hub` itself stores every message in SQLite.
        "storage": Peer("hub-nostore", (py, "-m", "backend"), {**HUB_ENV, "DATABASE_URL": "none"}),
        # Two instances over Redis sharing one database (bench.cluster.ClusterServer).
        "redis": Peer("hub-redis", (py, "-m", "backend"), HUB_ENV),
    }


def _npm_ci() -> str | None:
    """Install bench/node_modules from the committed lockfile; None, or why it failed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not found"
    done = subprocess.run(
        ["npm", "ci", "--prefix", str(BENCH), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        return "npm ci failed: " + done.stderr.strip()[-300:]
    return None


def node_ready() -> str | None:
    """Install the Node peer's `ws` from the committed lockfile; None, or why it cannot run."""
    if shutil.which("node") is None:
        return "node not found"
    if not (BENCH / "node_modules" / "ws" / "package.json").exists():
        return _npm_ci()
    return None


def bun_version() -> str | None:
    """The version the installed bun binary reports, or None if it does not run."""
    try:
        done = subprocess.run([str(BUN), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def bun_ready() -> str | None:
    """Install `bun` from the committed lockfile; None, or why the bun peer cannot run."""
    if bun_version() is not None:
        return None
    if (why := _npm_ci()) is not None:
        return why
    install = BENCH / "node_modules" / "bun" / "install.js"
    if bun_version() is None and install.exists():
        # Installed with scripts off (ignore-scripts): run the package's postinstall, which links
        # the native binary of this platform's @oven/bun-* package in place of a placeholder.
        subprocess.run(["node", "install.js"], cwd=install.parent, capture_output=True, timeout=120)
    if bun_version() is None:
        return f"{BUN} does not run (no build of the npm package `bun` for this platform?)"
    return None


# Peers that need an install first: name -> a check that installs and says why it cannot run.
READY = {"node-ws": node_ready, "bun": bun_ready}


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (no psutil stubs needed)."""
    with open(f"/proc/{pid}/stat") as stat:
        # Fields after the command name, which may itself hold spaces and parentheses.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss(pid: int) -> int:
    """Resident memory of a process, in bytes."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def server_holds(server_port: int, client_port: int) -> bool:
    """Whether a server process still owns its socket to this client.

    Read from /proc/net/tcp: once the server closes its descriptor the socket is gone or an
    orphan (inode 0) that only the kernel keeps. A client that stopped reading never sees that
    close, so this is where "the slow reader was dropped" is observed, for every server alike.
    """
    local, remote = f":{server_port:04X}", f":{client_port:04X}"
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[1].endswith(local) and fields[2].endswith(remote):
                return fields[9] != "0"
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Target(Protocol):
    """What a scenario needs of the server under test (a Server, or a ClusterServer)."""

    peer: Peer
    port: int

    def path(self, room: str, json_mode: bool) -> str: ...

    def rss(self) -> int: ...

    def cpu(self) -> float: ...

    def stop(self) -> None: ...


class Server:
    """One running server process; `extra_env` adds settings for one scenario."""

    def __init__(self, peer: Peer, extra_env: dict[str, str] | None = None) -> None:
        self.peer = peer
        self.port = free_port()
        env = {**os.environ, **peer.env, **(extra_env or {}), "PORT": str(self.port)}
        self.data_dir: str | None = None
        if peer.argv[-1] == "backend" and "DATABASE_URL" not in env:
            # The hub stores messages, as shipped; in a fresh file, so runs do not pile up.
            self.data_dir = tempfile.mkdtemp(prefix="bench-hub-")
            env["DATABASE_URL"] = f"sqlite+aiosqlite:///{self.data_dir}/bench.db"
        # uvicorn's CLI takes its port as a flag; the others read PORT.
        argv = [*peer.argv, "--port", str(self.port)] if "uvicorn" in peer.argv else peer.argv
        # Peers log every connection the generator aborts; keep that out of the table's way and
        # show it only if the server fails.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.peer.name} exited: {self.proc.returncode}{self.tail()}")
            try:
                url = f"http://127.0.0.1:{self.port}/readyz"
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.peer.name} not ready after {timeout}s")

    def tail(self) -> str:
        self.log.seek(0)
        return "\n" + self.log.read()[-2000:].decode(errors="replace")

    def path(self, room: str, json_mode: bool) -> str:
        return f"/ws?room={room}" + ("&format=json" if json_mode else "")

    def rss(self) -> int:
        return proc_rss(self.proc.pid)

    def cpu(self) -> float:
        return proc_cpu(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
