"""The hub as a cluster: two instances over one redis-server, publisher on A, subscribers on B."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

from bench.peers import ROOT, Peer, Server, free_port


class ClusterServer:
    """Looks like a Server to the scenarios: `port` is B (where subscribers connect),
    `publisher_port` is A, and CPU and memory are the two instances' sum (Redis's apart)."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        redis_bin = shutil.which("redis-server")
        if redis_bin is None:
            raise RuntimeError("redis-server is not installed (make system-deps)")
        self.redis_port = free_port()
        self.redis_dir = tempfile.mkdtemp(prefix="bench-redis-")
        self.redis = subprocess.Popen(
            [redis_bin, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.redis_dir],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._wait_redis()
        # The instances share one log (they number messages in one database): an SQLite file
        # here, PostgreSQL in production.
        shared = f"sqlite+aiosqlite:///{self.redis_dir}/shared.db"
        broker = {"BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0", "DATABASE_URL": shared}
        self.a = Server(peer, broker)
        self.b = Server(peer, broker)
        self.port = self.b.port
        self.publisher_port = self.a.port

    def _wait_redis(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def path(self, room: str, json_mode: bool) -> str:
        return self.b.path(room, json_mode)

    def rss(self) -> int:
        return self.a.rss() + self.b.rss()

    def cpu(self) -> float:
        return self.a.cpu() + self.b.cpu()

    def stop(self) -> None:
        self.a.stop()
        self.b.stop()
        self.redis.terminate()
        self.redis.wait(10)
        shutil.rmtree(self.redis_dir, ignore_errors=True)
