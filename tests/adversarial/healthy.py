"""The healthy publisher/subscriber pair, as a process of its own (`python -m
tests.adversarial.healthy URL RATE`): the attack's threads in the test process hold the GIL,
and would otherwise add their own delays to the latencies measured here.

Prints `ready` once both clients are subscribed; on `stop` (stdin), waits up to 5 s for every
message sent to arrive, prints one JSON line (sent, latencies by sequence, errors) and exits.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import websocket


class Pair:
    def __init__(self, url: str, rate: float) -> None:
        self.url = url
        self.rate = rate
        self.room = url.split("room=")[1].split("&")[0]
        self.sent: dict[int, float] = {}
        self.latencies: dict[int, float] = {}
        self.errors: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def client(self, name: str) -> websocket.WebSocket:
        ws = websocket.create_connection(f"{self.url}&name={name}", timeout=10)
        while True:  # up to `subscribed`: the pair is in the room before anything is published
            frame = str(ws.recv())
            if any(json.loads(line)["type"] == "subscribed" for line in frame.split("\n")):
                return ws

    def publish(self, ws: websocket.WebSocket) -> None:
        seq = 0
        while not self.stopping.is_set():
            with self.lock:
                self.sent[seq] = time.monotonic()
            frame = {"type": "publish", "room": self.room, "text": str(seq), "ref": f"h{seq}"}
            ws.send(json.dumps(frame))
            seq += 1
            time.sleep(1 / self.rate)

    def read(self, ws: websocket.WebSocket) -> None:
        """Messages of the room (their latency) and errors (what the publisher was told)."""
        while True:
            try:
                frame = str(ws.recv())
            except Exception:  # noqa: BLE001 - closed at the end
                return
            if not frame:
                return
            now = time.monotonic()
            for line in frame.split("\n"):
                obj = json.loads(line)
                if obj.get("type") == "message" and obj.get("room") == self.room:
                    seq = int(obj["text"])
                    with self.lock:
                        self.latencies[seq] = now - self.sent[seq]
                elif obj.get("type") == "error":
                    self.errors.append(obj)

    def run(self) -> dict[str, Any]:
        subscriber = self.client("healthy-sub")
        publisher = self.client("healthy-pub")
        publishing = threading.Thread(target=self.publish, args=(publisher,), daemon=True)
        for target, ws in ((self.read, subscriber), (self.read, publisher)):
            threading.Thread(target=target, args=(ws,), daemon=True).start()
        publishing.start()
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.readline()  # "stop", or EOF when the test process is gone
        self.stopping.set()
        publishing.join(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(self.latencies) < len(self.sent):
            time.sleep(0.05)
        for ws in (publisher, subscriber):
            ws.close(timeout=0.5)
        with self.lock:
            return {
                "sent": len(self.sent),
                "latencies": {str(seq): value for seq, value in self.latencies.items()},
                "errors": self.errors[:10],
            }


if __name__ == "__main__":
    result = Pair(sys.argv[1], float(sys.argv[2])).run()
    sys.stdout.write(json.dumps(result) + "\n")
