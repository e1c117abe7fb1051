"""GET /rooms/{room}/messages within its budgets: a page stops at HISTORY_MAX_RESPONSE_BYTES
(`truncated`, and `next` to continue), at most HISTORY_CONCURRENCY reads run at once (503 with
Retry-After past it), and one address gets HTTP_REQUESTS_PER_SECOND (429 past it). Eight
connections asking for 500 large messages in a loop, without pause, hurt nobody."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from tests.adversarial.harness import Watch, scaled
from tests.support.clients import publish_acked
from tests.support.server import ServerFactory, ServerProcess

PAGE_BYTES = 256 * 1024
MESSAGE = "m" * 30_000
# Publishing the room quickly is not what is tested here.
ROOMY = {
    "HISTORY_MAX_RESPONSE_BYTES": str(PAGE_BYTES),
    "HISTORY_CONCURRENCY": "2",
    "RATE_LIMIT_PER_SECOND": "10000",
    "RATE_LIMIT_BURST": "10000",
    "INBOUND_BYTES_PER_SECOND": str(64 * 1024 * 1024),
    "INBOUND_BYTES_BURST": str(64 * 1024 * 1024),
    "HTTP_REQUESTS_PER_SECOND": "20",
    "HTTP_REQUESTS_BURST": "100",
}


def fill(server: ServerProcess, room: str, count: int) -> None:
    for start in range(0, count, 50):
        texts = [f"{n}:{MESSAGE}" for n in range(start, min(count, start + 50))]
        publish_acked(server.ws, room, texts)


def page(http: httpx.Client, room: str, **params: Any) -> dict[str, Any]:
    answer = http.get(f"/rooms/{room}/messages", params=params)
    assert answer.status_code == 200, answer.text
    assert len(answer.content) <= PAGE_BYTES + 40_000  # one message over at most, never more
    body: dict[str, Any] = answer.json()
    return body


def test_a_page_stops_at_the_byte_budget_and_says_where_to_continue(
    make_server: ServerFactory,
) -> None:
    server = make_server(ROOMY)
    fill(server, "big", 40)
    with httpx.Client(base_url=server.http) as http:
        # Catching up: oldest first, `next` continues after the last one.
        seen: list[str] = []
        cursor: dict[str, Any] = {"after": 0}
        while True:
            body = page(http, "big", limit=500, **cursor)
            seen += [m["text"].split(":")[0] for m in body["messages"]]
            if not body.get("truncated"):
                break
            cursor = body["next"]
            assert cursor == {"after": body["messages"][-1]["id"]}
        assert seen == [str(n) for n in range(40)]
        # Scrolling back: the newest first, `next` continues before the first one.
        newest = page(http, "big", limit=500)
        assert newest["truncated"] is True
        assert newest["next"] == {"before": newest["messages"][0]["id"]}
        assert newest["messages"][-1]["text"].startswith("39:")
        older = page(http, "big", limit=500, **newest["next"])
        assert older["messages"][-1]["id"] == newest["messages"][0]["id"] - 1


def test_concurrent_huge_history_reads_are_bounded_and_hurt_nobody(
    make_server: ServerFactory,
) -> None:
    server = make_server(ROOMY)
    fill(server, "big", scaled(120, 500))
    statuses: list[int] = []
    oversized: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        # From 127.0.0.2: not the loopback proxy, an ordinary client with its own budget.
        local = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=server.http, timeout=30, transport=local) as http:
            while not stop.is_set():
                answer = http.get("/rooms/big/messages", params={"limit": 500})
                statuses.append(answer.status_code)
                if answer.status_code in (429, 503):
                    assert answer.headers["retry-after"] == "1"
                    # Still 100 tries a second per connection; spinning faster would measure
                    # this machine's two cores shared by attacker, server and healthy pair.
                    time.sleep(0.01)
                elif len(answer.content) > PAGE_BYTES + 40_000:
                    oversized.append(len(answer.content))

    with Watch(server):
        threads = [threading.Thread(target=reader) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(scaled(4, 40))
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not oversized, f"responses over the byte budget: {oversized[:5]}"
    assert set(statuses) <= {200, 429, 503}
    assert statuses.count(200) > 0
    assert statuses.count(503) > 0, "8 concurrent readers never met the concurrency budget of 2"
    assert statuses.count(429) > 0, "a reader in a tight loop never met the request budget"
