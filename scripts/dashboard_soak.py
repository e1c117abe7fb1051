"""Drive a real backend at a steady rate with the dashboard open in Chromium; sample its memory.

    python -m scripts.dashboard_soak --rate 200 --seconds 60
    python -m scripts.dashboard_soak --rate 6 --seconds 20 --screenshot docs/images/dashboard.png

Prints the streamlit process's RSS over time and how long a marked message takes to appear on
the page while the load runs (the page's responsiveness).
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import threading
import time
import uuid
from pathlib import Path

import websocket
from playwright.sync_api import TimeoutError, expect

from tests.support.browser import chromium
from tests.support.clients import JsonClient
from tests.support.dashboard import DashboardProcess
from tests.support.server import ServerProcess

ROOMS = ["lobby", "support", "deploys", "alerts"]
SENDERS = ["ana", "bruno", "carla", "diego", "eva"]
LINES = [
    "build 1842 passed, rolling out to eu-west",
    "ticket #5512: customer cannot log in, looking",
    "p95 latency back under 40 ms",
    "disk usage on db-2 at 71%",
    "shipping the fix for the reconnect bug",
    "who owns the billing alerts this week?",
]


def drain(client: JsonClient, stop: threading.Event) -> None:
    """Read (and drop) the acks: a sender that never reads is closed as a slow consumer."""
    client.ws.settimeout(0.5)
    while not stop.is_set():
        try:
            client.ws.recv()
        except websocket.WebSocketTimeoutException:
            continue
        except (OSError, websocket.WebSocketException):
            return


def publish(ws_url: str, rate: float, stop: threading.Event, counter: list[int]) -> None:
    """One sender per name, rooms in turn, `rate` messages per second in total."""
    clients = [JsonClient(ws_url, f"name={name}") for name in SENDERS]
    drains = [threading.Thread(target=drain, args=(client, stop)) for client in clients]
    for thread in drains:
        thread.start()
    per_tick = max(1, round(rate / 20))
    # Cycles of coprime lengths (5, 4, 6 → every combination) so each row differs from the last.
    cycle = zip(itertools.cycle(clients), itertools.cycle(ROOMS), itertools.cycle(LINES))
    next_tick = time.monotonic()
    try:
        while not stop.is_set():
            for _ in range(per_tick):
                client, room, line = next(cycle)
                client.ws.send(json.dumps({"type": "publish", "room": room, "text": line}))
                counter[0] += 1
            next_tick += per_tick / rate
            time.sleep(max(0.0, next_tick - time.monotonic()))
    finally:
        stop.set()
        for thread in drains:
            thread.join()
        for client in clients:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args()
    # Each sender stays under the backend's per-connection limit (50/s): 5 senders carry 200/s.
    env = {"RATE_LIMIT_PER_SECOND": "100", "RATE_LIMIT_BURST": "200"}
    home = Path(tempfile.mkdtemp(prefix="dash-home-"))
    members = []
    with ServerProcess(env) as backend, DashboardProcess(backend.http, home=home) as dash:
        # Members keep the rooms alive so that /stats lists them and the dashboard follows them.
        rooms = [*ROOMS, "probe"]
        members = [JsonClient(backend.ws, f"name=member-{room}&room={room}") for room in rooms]
        member_stop = threading.Event()
        for member in members:
            threading.Thread(target=drain, args=(member, member_stop), daemon=True).start()
        stop, counter = threading.Event(), [0]
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1500, "height": 1250})
            page.goto(dash.url)
            expect(page.get_by_text("Connected to")).to_be_visible(timeout=30_000)
            if not args.screenshot:
                # At 200/s the unfiltered feed's rows turn over within a second; the probe has
                # its own quiet room so that it stays on screen once shown.
                expect(page.get_by_text("probe", exact=True).first).to_be_attached(timeout=30_000)
                page.get_by_role("combobox").click()
                page.get_by_role("option", name="probe", exact=True).click()
            sender = threading.Thread(target=publish, args=(backend.ws, args.rate, stop, counter))
            sender.start()
            started = time.monotonic()
            print(f"rate={args.rate}/s seconds={args.seconds}")
            print(" t(s)  sent   dashboard RSS (MiB)  marked message visible after (s)")
            probe = JsonClient(backend.ws, "name=prober")
            threading.Thread(target=drain, args=(probe, stop), daemon=True).start()
            while (elapsed := time.monotonic() - started) < args.seconds:
                mark = f"probe {uuid.uuid4().hex[:6]}"
                sent_at = time.monotonic()
                probe.send(type="publish", room="probe", text=mark)
                try:
                    page.locator("td.feed-text", has_text=mark).first.wait_for(timeout=30_000)
                except TimeoutError:
                    banner = page.locator("[data-testid=stAlertContainer]").first.text_content()
                    print(f"probe not shown within 30s; page says: {banner}")
                    raise
                seen = time.monotonic() - sent_at
                rss = dash.rss_bytes() / 2**20
                print(f"{elapsed:5.0f} {counter[0]:6d}  {rss:19.1f}  {seen:8.2f}", flush=True)
                time.sleep(max(0.0, 5.0 - (time.monotonic() - sent_at)))
            probe.close()
            if args.screenshot:
                page.screenshot(path=str(args.screenshot), full_page=True)
            stop.set()
            sender.join()
        member_stop.set()
    for member in members:
        member.close()


if __name__ == "__main__":
    main()
