"""SIGTERM while clients publish: every message the server accepted reaches every subscriber
before its 1001 close (the hub drains before uvicorn closes connections)."""

from __future__ import annotations

import json
import random
import signal
import threading
import time

import pytest
import websocket

from backend.closecodes import CloseCode
from tests.faults.checker import history
from tests.faults.conftest import seeds
from tests.support.clients import connect
from tests.support.server import ServerProcess

FAST = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"}


def receive_until_close(ws: websocket.WebSocket, ids: list[int], codes: list[int]) -> None:
    ws.settimeout(20)
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            codes.append(int.from_bytes(data[:2], "big"))
            return
        if opcode == websocket.ABNF.OPCODE_TEXT:
            for line in data.decode().split("\n"):
                obj = json.loads(line)
                if obj["type"] == "message":
                    ids.append(obj["id"])


@pytest.mark.parametrize("seed", seeds())
def test_sigterm_delivers_every_accepted_message_before_closing_with_1001(seed: int) -> None:
    rng = random.Random(seed)
    server = ServerProcess(FAST).start()
    port, env = server.port, server.env
    received: list[list[int]] = [[] for _ in range(3)]
    codes: list[int] = []
    readers = []
    for ids in received:
        ws = connect(server.ws + "?format=json&room=drain")
        readers.append(threading.Thread(target=receive_until_close, args=(ws, ids, codes)))
    for reader in readers:
        reader.start()
    time.sleep(0.3)  # all three have joined

    def blast(ws: websocket.WebSocket, tag: str) -> None:
        try:
            for n in range(5000):
                frame = {
                    "type": "publish",
                    "room": "drain",
                    "text": f"{tag}{n}",
                    "ref": f"{tag}{n}",
                }
                ws.send(json.dumps(frame))
        except Exception:  # noqa: BLE001 - the server closed: sending stops
            return

    publishers = [connect(server.ws + "?format=json") for _ in range(2)]
    blasting = [
        threading.Thread(target=blast, args=(ws, t)) for ws, t in zip(publishers, "ab", strict=True)
    ]
    for thread in blasting:
        thread.start()
    time.sleep(rng.uniform(0.1, 0.6))
    assert server.terminate() == -signal.SIGTERM
    for thread in (*blasting, *readers):
        thread.join(30)

    assert codes == [CloseCode.GOING_AWAY] * 3
    again = ServerProcess({**env, "PORT": str(port)}, port=port)
    again.data_dir = server.data_dir
    again.start()
    try:
        stored = [m["id"] for m in history(again.http, "drain")]
        assert stored, "the burst stored nothing before SIGTERM"
        for ids in received:
            assert ids == stored
    finally:
        again.stop()
