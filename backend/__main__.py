"""`python -m backend`: run the hub with uvicorn, configured entirely from settings."""

from __future__ import annotations

import gc
import socket

import uvicorn

from backend.app import Desafio, create_app
from backend.config import Settings, get_settings
from backend.gate import GatedHttpProtocol
from backend.hub.hub import Hub
from backend.native import native_protocol


class DrainingServer(uvicorn.Server):
    """uvicorn, with the hub drained before connections are told to close.

    uvicorn's shutdown closes every connection first and runs the lifespan shutdown last; by
    then messages accepted but not yet committed or fanned out could only reach clients through
    a `since` reconnect. Draining first delivers them before the 1001 close.
    """

    def __init__(self, config: uvicorn.Config, hub: Hub) -> None:
        super().__init__(config)
        self.hub = hub

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # What is alive now (modules, the app, pydantic's schemas: about a million objects)
        # lives as long as the process. Frozen, it leaves the collector's generations, so a full
        # collection scans what the connections hold instead of what the imports left: connects
        # under load were spending more time in the collector than in the handshake.
        gc.collect()
        gc.freeze()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.hub.drain()
        await super().shutdown(sockets)


def server_config(settings: Settings, app: Desafio) -> uvicorn.Config:
    """uvicorn as `python -m backend` runs it: the gate, the native layer, the budgets."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        # Both protocols enforce budgets uvicorn has not (docs/security.md#budgets): connections
        # counted from accept, handshake deadline and sizes; control frames, inbound bytes.
        http=GatedHttpProtocol.configured(settings),
        # /ws on the hub's own connection layer (backend/native): no ASGI task per connection.
        ws=native_protocol(settings),
        # One setting for whose X-Forwarded-For is trusted and who is counted by it.
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # uvicorn refuses oversized frames itself (close 1009) before buffering them.
        ws_max_size=settings.max_message_bytes,
        ws_ping_interval=settings.ws_ping_interval or None,
        ws_ping_timeout=settings.ws_ping_timeout or None,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=int(settings.close_timeout) + 1,
        lifespan="on",
    )


def main() -> None:
    settings = get_settings()
    app = create_app(settings)
    DrainingServer(server_config(settings, app), app.state.hub).run()


if __name__ == "__main__":
    main()
