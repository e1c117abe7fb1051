"""Start the real backend (`python -m backend`) on a free port, as a separate process."""

from __future__ import annotations

import os
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 15 s."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


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
        path = os.path.join(self.data_dir, "server.log")
        log = open(path, "ab") if self.log_to_file else None  # noqa: SIM115 - closed below
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stderr=log,
            stdout=log,
        )
        if log is not None:
            log.close()  # the child has its own copy
        try:
            wait_healthy(self.proc, self.http + "/readyz", "backend", timeout)
        except RuntimeError:
            self.stop()
            raise
        return self

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
