"""`create_app(settings)` assembles the application; nothing else lives here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from backend.broker import create_broker
from backend.config import Settings, get_settings
from backend.hub.hub import Hub
from backend.logs import configure_logging
from backend.metrics import Metrics
from backend.routes import ops, ws
from backend.routes.client import ClientFiles


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    hub = Hub(settings, create_broker(settings.broker_url), Metrics())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    app = FastAPI(title="WebSocket_DeSafio", lifespan=lifespan)
    app.state.settings = settings
    app.state.hub = hub
    app.include_router(ops.router)
    app.include_router(ws.router)
    frontend = Path(settings.frontend_dir)
    if frontend.is_dir():
        app.mount("/client", ClientFiles(directory=frontend, html=True), name="client")
    return app
