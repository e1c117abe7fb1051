"""The coordinator's handle on the load-generator worker processes."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from multiprocessing.connection import Connection
from typing import Any

from bench.loadgen import worker_main


class LoadGen:
    """The coordinator's handle on N worker processes."""

    def __init__(self, workers: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[mp.process.BaseProcess] = []
        for _ in range(workers):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(theirs,), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def send(self, index: int, *cmd: Any) -> None:
        self.pipes[index].send(cmd)

    def result(self, index: int, timeout: float = 120.0) -> Any:
        if not self.pipes[index].poll(timeout):
            raise TimeoutError(f"load generator {index} did not answer {timeout}s")
        status, value = self.pipes[index].recv()
        if status != "ok":
            raise RuntimeError(f"load generator {index}: {value}")
        return value

    def call(self, index: int, *cmd: Any, timeout: float = 120.0) -> Any:
        self.send(index, *cmd)
        return self.result(index, timeout)

    def call_all(self, *cmd: Any, timeout: float = 120.0) -> list[Any]:
        for i in range(len(self.pipes)):
            self.send(i, *cmd)
        return [self.result(i, timeout) for i in range(len(self.pipes))]

    def close(self) -> None:
        for i, proc in enumerate(self.procs):
            with contextlib.suppress(OSError, TimeoutError, RuntimeError):
                self.call(i, "quit", timeout=5)
            proc.join(5)
            if proc.is_alive():
                proc.kill()
