"""A load-generator worker process: receivers, a publisher or a slow reader, on uvloop.

The coordinator (bench.pool) talks to each worker over a pipe with small tuples; work is spread
over several workers so the generator does not become the bottleneck.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from multiprocessing.connection import Connection
from typing import Any

import uvloop

from bench.wsclient import Client, Tally, client_frame, connect, stamp

HOST = "127.0.0.1"


def raise_nofile() -> None:
    """Use the whole hard limit on open files (the machine caps it at 20000)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def publish_payload(json_mode: bool, room: str, size: int) -> bytes:
    """The payload with its send time: plain text, or the hub's JSON publish object."""
    pad = b"x" * max(0, size - 18)
    text = stamp(time.monotonic_ns()) + pad
    if json_mode:
        return b'{"type":"publish","room":"%s","text":"%s"}' % (room.encode(), text)
    return text


class Worker:
    """Runs commands from the coordinator while its connections keep reading."""

    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe
        self.clients: list[Client] = []
        self.tallies: dict[str, Tally] = {}
        self.pub: Client | None = None
        self.done = asyncio.get_running_loop().create_future()

    async def serve(self) -> None:
        asyncio.get_running_loop().add_reader(self.pipe.fileno(), self._on_command)
        # The loop made the pipe non-blocking; replies (latency arrays) can exceed its buffer, and
        # a reply must go out whole, so writes block until the coordinator has read it.
        os.set_blocking(self.pipe.fileno(), True)
        await self.done

    def _on_command(self, *_: object) -> None:
        name, *args = self.pipe.recv()
        asyncio.get_running_loop().create_task(self._run(name, args))

    async def _run(self, name: str, args: list[Any]) -> None:
        try:
            result = await getattr(self, "cmd_" + name)(*args)
            self.pipe.send(("ok", result))
        except Exception as exc:  # noqa: BLE001 - reported to the coordinator, which decides
            self.pipe.send(("error", repr(exc)))

    async def cmd_connect(
        self, port: int, path: str, count: int, group: str, rcvbuf: int | None = None
    ) -> dict[str, Any]:
        tally = self.tallies.setdefault(group, Tally())
        started = time.monotonic()
        failed, errors = 0, []
        # Bounded concurrency: a connect storm beyond the listen backlog only measures SYN retries.
        gate = asyncio.Semaphore(100)

        async def one() -> None:
            nonlocal failed
            async with gate:
                try:
                    self.clients.append(await connect(HOST, port, path, tally, rcvbuf))
                except (OSError, TimeoutError) as exc:
                    failed += 1
                    errors.append(repr(exc))

        await asyncio.gather(*(one() for _ in range(count)))
        return {
            "opened": count - failed,
            "failed": failed,
            "seconds": time.monotonic() - started,
            "error": errors[0] if errors else None,
        }

    async def cmd_pause(self, group: str) -> None:
        """Stop reading on this group's connections (a slow reader that has stopped)."""
        for client in self.clients:
            if client.tally is self.tallies.get(group) and client.transport is not None:
                client.transport.pause_reading()

    async def cmd_reset(self, record: bool) -> None:
        for tally in self.tallies.values():
            tally.reset(record)

    async def cmd_tally(self, latencies: bool) -> dict[str, dict[str, Any]]:
        return {
            group: {
                "count": t.count,
                "first_ns": t.first_ns,
                "last_ns": t.last_ns,
                "latencies": t.latencies_ns.tobytes() if latencies else b"",
            }
            for group, t in self.tallies.items()
        }

    async def cmd_ports(self, group: str) -> list[int]:
        """Local ports of this group's connections (to find the server's side of each)."""
        tally = self.tallies.get(group)
        return [
            c.transport.get_extra_info("sockname")[1]
            for c in self.clients
            if c.tally is tally and c.transport is not None
        ]

    async def cmd_publisher(self, port: int, path: str) -> None:
        """Open the one publishing connection; it stays open so nothing it sent is cut off."""
        self.pub = await connect(HOST, port, path, self.tallies.setdefault("publisher", Tally()))
        self.clients.append(self.pub)

    async def cmd_burst(
        self, messages: int, json_mode: bool, room: str, size: int
    ) -> dict[str, int]:
        pub = self.pub
        assert pub is not None
        started = time.monotonic_ns()
        sent = 0
        while sent < messages:
            batch = min(64, messages - sent)
            await pub.send(b"".join(client_frame(publish_payload(json_mode, room, size))
                                    for _ in range(batch)))  # fmt: skip
            sent += batch
        return {"start_ns": started, "end_ns": time.monotonic_ns(), "sent": sent}

    async def cmd_steady(
        self, rate: float, seconds: float, json_mode: bool, room: str, size: int
    ) -> dict[str, int]:
        pub = self.pub
        assert pub is not None
        started = time.monotonic()
        sent = 0
        # Catch-up schedule: each tick sends what is due by now, so a late tick is not lost rate.
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * rate) + 1 - sent
            if due > 0:
                frames = b"".join(
                    client_frame(publish_payload(json_mode, room, size)) for _ in range(due)
                )
                sent += due
                if not await pub.send(frames, seconds - elapsed):
                    break
            await asyncio.sleep(0.001)
        return {"sent": sent}

    async def cmd_close(self) -> None:
        for client in self.clients:
            if client.transport is not None:
                client.transport.abort()
        self.clients.clear()
        self.tallies.clear()
        self.pub = None
        await asyncio.sleep(0.05)

    async def cmd_quit(self) -> None:
        await self.cmd_close()
        self.done.set_result(None)


def worker_main(pipe: Connection) -> None:
    raise_nofile()

    async def main() -> None:
        await Worker(pipe).serve()

    uvloop.run(main())
