"""axe-core finds no serious or critical violation: light and dark, desktop and phone (390x844)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest

from tests.frontend.pages import ChatPage, Opener
from tests.support.clients import JsonClient
from tests.support.server import ServerProcess

# axe-core 4.14.1 (MPL-2.0, vendor/axe-LICENSE), the single file from its npm package.
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()


def serious_violations(chat: ChatPage) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    # Evaluated through the DevTools protocol, which the page's CSP does not govern (a script
    # tag would be refused, as it should be).
    chat.page.evaluate(AXE + "\n;0")
    found: list[dict[str, Any]] = chat.page.evaluate(
        """async () => {
          const result = await axe.run(document, {resultTypes: ["violations"]});
          return result.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.html)}));
        }"""
    )
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", [(1100, 720), (390, 844)], ids=["desktop", "phone"])
def test_no_serious_or_critical_axe_violations(
    server: ServerProcess,
    open_chat: Opener,
    scheme: Literal["light", "dark"],
    size: tuple[int, int],
) -> None:
    room = f"a11y-{scheme}-{size[0]}"
    ana = open_chat(server.http, "Ana", room, width=size[0], height=size[1])
    ana.page.emulate_media(color_scheme=scheme)
    bruno = JsonClient(server.ws, f"name=Bruno&room={room}")
    bruno.send(type="publish", room=room, text="hi @Ana, see https://example.com/docs")
    bruno.send(type="publish", room=room, text="a long one\n" * 40)
    ana.say("hello Bruno")
    ana.page.locator("#messages .message.mine[data-state='sent']").wait_for()
    ana.page.locator("#messages .message.long").wait_for()
    ana.page.locator("#messages .message.mine .edit").first.focus()
    assert serious_violations(ana) == []
    if size[0] < 720:
        ana.page.get_by_role("button", name="Rooms and people").click()
        assert serious_violations(ana) == []
    bruno.close()
