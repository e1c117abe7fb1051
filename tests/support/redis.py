"""A real `redis-server` for tests: free port, temp dir, no persistence; stop and restart it on
the same port to play an outage."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time

from tests.support.server import BIND_ATTEMPTS, free_port, port_lost


class RedisServer:
    """One `redis-server` process. A missing binary is an error: the suite needs the real thing."""

    def __init__(self, port: int | None = None, persistent: bool = False) -> None:
        self.port = port or free_port()
        # A port of our choosing, until the first start: then it is the address clients know.
        self.port_is_ours = port is None
        # True: an append-only file that fsyncs every second (as Procfile.cluster runs Redis).
        self.persistent = persistent
        self.dir = tempfile.mkdtemp(prefix="desafio-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make system-deps`")
        for attempt in range(1, BIND_ATTEMPTS + 1):
            if self._spawned(binary, timeout, self.port_is_ours and attempt < BIND_ATTEMPTS):
                break
            # Another process took the port before Redis bound it: again, on another.
            self.port = free_port()
        self.port_is_ours = False
        return self

    def _spawned(self, binary: str, timeout: float, may_move: bool) -> bool:
        """Redis answers on self.port; False if it lost the port to another process and
        `may_move` (to be tried again elsewhere); any other failure raises."""
        # Not persistent: nothing on disk, so a restart is a Redis that forgot everything.
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        args += ["--save", "", "--appendonly", "yes" if self.persistent else "no"]
        args += ["--appendfsync", "everysec", "--daemonize", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.proc.poll() is not None:
                if may_move and port_lost(self.proc, self.port):
                    return False
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} not up after {timeout}s")
            time.sleep(0.05)
        return True

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def pause(self) -> None:
        """SIGSTOP: Redis stalls (a swapped or frozen host); connections stay open, unanswered."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: no shutdown save; only what the append-only file already holds survives."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def restart(self) -> RedisServer:
        """Start again on the same port (clients reconnect to the address they know)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
