"""`python -m backend`: run the hub with uvicorn, configured entirely from settings."""

from __future__ import annotations

import uvicorn

from backend.app import create_app
from backend.config import get_settings
from backend.gate import GatedHttpProtocol
from backend.transport import HubWebSocketProtocol


def main() -> None:
    settings = get_settings()
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # Both protocols enforce budgets uvicorn has not (docs/security.md#budgets): connections
        # counted from accept, handshake deadline and sizes; control frames, inbound bytes.
        http=GatedHttpProtocol.configured(settings),
        ws=HubWebSocketProtocol.configured(settings),
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
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
