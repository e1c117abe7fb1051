"""A throwaway PostgreSQL server (Debian's binaries) in a temporary directory, on a free port."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid

from tests.support.server import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is missing: run `make system-deps`")
    return found[-1]


class PostgresServer:
    """initdb + postgres as the `postgres` user when run as root (PostgreSQL refuses root)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="desafio-pg-")
        self.data = os.path.join(self.root, "data")
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    def _run_as(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if self._as_postgres else argv

    @property
    def url(self) -> str:
        user = "postgres" if self._as_postgres else os.environ.get("USER", "postgres")
        return f"postgresql+asyncpg://{user}@127.0.0.1:{self.port}/postgres"

    def fresh_database(self) -> str:
        """A new empty database on this server; its URL (for a test that needs its own log)."""
        name = f"t{uuid.uuid4().hex[:12]}"
        user = self.url.split("://", 1)[1].split("@", 1)[0]
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", "postgres",
             "-q", "-c", f"CREATE DATABASE {name}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return self.url.rsplit("/", 1)[0] + "/" + name

    def init(self) -> PostgresServer:
        subprocess.run(
            self._run_as([_bin("initdb"), "-D", self.data, "-A", "trust", "-E", "UTF8", "-N"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return self

    def start(self, timeout: float = 30.0) -> PostgresServer:
        argv = [
            _bin("postgres"), "-D", self.data, "-p", str(self.port), "-h", "127.0.0.1",
            "-k", self.root, "-c", "fsync=on", "-c", "log_min_messages=warning",
        ]  # fmt: skip
        with open(os.path.join(self.root, "postgres.log"), "ab") as log:
            self.proc = subprocess.Popen(self._run_as(argv), stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                capture_output=True,
            )
            if ready.returncode == 0:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited while starting")
            time.sleep(0.1)
        raise RuntimeError("postgres did not become ready")

    def stop(self) -> None:
        """Fast shutdown: open client connections are cut, as in a real outage."""
        if self.proc is not None and self.proc.poll() is None:
            subprocess.run(
                self._run_as([_bin("pg_ctl"), "stop", "-D", self.data, "-m", "fast", "-s"]),
                check=True,
            )
            self.proc.wait(30)
        self.proc = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
