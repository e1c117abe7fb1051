"""Start the real backend (`python -m backend`) on a free port, as a separate process."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Protocol

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _port_pool() -> range:
    """The ports this process hands out: none of the kernel's ephemeral range (from which every
    outgoing connection takes its local port, so a port released there can be taken by a client
    socket before the server binds it), and, under pytest-xdist, only this worker's own slice,
    so that two workers never pick the same port."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
            low, high = (int(n) for n in ports.read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default
    # Above 10000: clear of the well-known services (PostgreSQL, Redis, `make run`'s 8765, 8501).
    pool = max(range(10000, low), range(high + 1, 65536), key=len)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    size = len(pool) // workers
    return pool[worker * size : (worker + 1) * size]


_POOL = _port_pool()
# Handed out in turn from a random start: a port comes back only after the whole slice, so a
# test that stopped a server can restart it on its port, or count on nobody listening there.
_NEXT = itertools.count(random.randrange(len(_POOL)))


def _bindable(port: int) -> bool:
    """Nothing listens on 127.0.0.1:`port` or on every address (nor lingers there)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port nobody uses now, from this process's pool (see `_port_pool`)."""
    for _ in range(len(_POOL)):
        port = _POOL[next(_NEXT) % len(_POOL)]
        if _bindable(port):
            return port
    raise RuntimeError(f"no free port in {_POOL}")


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 15 s."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# Starts of a server on ports of our choosing, each ended by someone else taking the port.
BIND_ATTEMPTS = 3


def port_lost(proc: subprocess.Popen[bytes], port: int) -> bool:
    """`proc` exited (failed to start) and another process now holds `port`: the likely reason
    it exited is that the port was taken between our choosing and its binding. Any other start
    failure leaves the port free, and is the caller's to report."""
    return proc.poll() is not None and not _bindable(port)


def wait_healthy(proc: subprocess.Popen[bytes], url: str, what: str, timeout: float = 20.0) -> None:
    """Poll `url` until it answers 200; fail at once if `proc` exits, or after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready at {url} after {timeout}s")


class ServerProcess:
    """One backend process; `env` overrides settings (e.g. {"RATE_LIMIT_BURST": "5"})."""

    def __init__(
        self, env: dict[str, str] | None = None, port: int | None = None, log_to_file: bool = False
    ) -> None:
        self.port = port or free_port()
        # A port of our choosing may be taken by someone else before the server binds it; one
        # the test asked for (a restart on the same address) must stay what it is.
        self.port_is_ours = port is None
        # False: the server's log goes to the test's own stderr (pytest shows it on failure).
        self.log_to_file = log_to_file
        # Each server gets its own SQLite file unless the test names a database.
        self.data_dir = tempfile.mkdtemp(prefix="desafio-test-")
        self.env = {
            "DATABASE_URL": f"sqlite+aiosqlite:///{self.data_dir}/messages.db",
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_LEVEL": "WARNING",
            "FRONTEND_DIR": str(ROOT / "frontend"),
            **(env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 20.0) -> ServerProcess:
        attempt = 1
        while True:
            self.proc = self._spawn()
            try:
                wait_healthy(self.proc, self.http + "/readyz", "backend", timeout)
                return self
            except RuntimeError:
                retry = self.port_is_ours and attempt < BIND_ATTEMPTS
                if not (retry and port_lost(self.proc, self.port)):
                    self.stop()
                    raise
            # Another process took the port before the server bound it: again, on another.
            attempt += 1
            self.port = free_port()
            self.env["PORT"] = str(self.port)

    def _spawn(self) -> subprocess.Popen[bytes]:
        path = os.path.join(self.data_dir, "server.log")
        log = open(path, "ab") if self.log_to_file else None  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stderr=log,
            stdout=log,
        )
        if log is not None:
            log.close()  # the child has its own copy
        return proc

    def log_text(self) -> str:
        """What the server logged (only with `log_to_file`)."""
        with open(os.path.join(self.data_dir, "server.log"), errors="replace") as log:
            return log.read()

    def rss_bytes(self) -> int:
        """Resident memory of the server process, from /proc."""
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM, as a process manager would send it; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        stop_process(self.proc)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ServerFactory(Protocol):
    """The `make_server` fixture: start a backend with settings overrides (and maybe a port)."""

    def __call__(
        self, env: dict[str, str] | None = None, port: int | None = None
    ) -> ServerProcess: ...
