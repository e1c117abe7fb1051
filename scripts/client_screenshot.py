"""Take docs/images/client.png (desktop) and client-phone.png: the real client, a short chat.

Run: .venv/bin/python -m scripts.client_screenshot   (starts its own backend on a free port)
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.browser import chromium
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess

OUT = Path(__file__).resolve().parents[1] / "docs" / "images"
ROOM = "design-team"


def open_as(browser_page: Page, base: str, name: str) -> None:
    browser_page.add_init_script(f"localStorage.setItem('desafio.name', '{name}')")
    browser_page.goto(f"{base}/client/?room={ROOM}")
    expect(browser_page.locator("#members .you")).to_have_count(1)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with ServerProcess() as server, chromium() as browser:
        desktop = browser.new_page(viewport={"width": 1200, "height": 720})
        open_as(desktop, server.http, "Ana")
        bruno = JsonClient(server.ws, f"name=Bruno&room={ROOM}")
        carla = JsonClient(server.ws, f"name=Carla&room={ROOM}")

        def say(client: JsonClient, text: str) -> None:
            client.send(type="publish", room=ROOM, text=text)

        say(bruno, "Morning! Did the new build go out last night?")
        expect(desktop.locator(".message")).to_have_count(1)
        desktop.locator("#messageInput").fill("It did, around 23:00. No alarms so far.")
        desktop.locator("#messageInput").press("Enter")
        expect(desktop.locator('.message.mine[data-state="sent"]')).to_have_count(1)
        say(carla, "Nice. I'm reviewing the reconnect flow this afternoon.")
        say(carla, "If anyone wants to pair, ping me here.")
        expect(desktop.locator(".message")).to_have_count(4)
        desktop.locator("#messageInput").fill("Count me in, 14:00?")
        desktop.locator("#messageInput").press("Enter")
        say(bruno, "I'll bring coffee")
        expect(desktop.locator(".message")).to_have_count(6)
        desktop.locator("#messageInput").fill("See you there")
        desktop.screenshot(path=str(OUT / "client.png"))

        phone = browser.new_page(viewport={"width": 390, "height": 760}, device_scale_factor=2)
        open_as(phone, server.http, "Dora")
        say(bruno, "Welcome, Dora!")
        expect(phone.locator(".message")).to_have_count(1)
        phone.locator("#messageInput").fill("Thanks! Reading the backlog now")
        phone.locator("#messageInput").press("Enter")
        expect(phone.locator('.message.mine[data-state="sent"]')).to_have_count(1)
        phone.screenshot(path=str(OUT / "client-phone.png"))
        bruno.close()
        carla.close()
    print(f"wrote {OUT / 'client.png'} and {OUT / 'client-phone.png'}")


if __name__ == "__main__":
    main()
