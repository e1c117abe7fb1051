"""`create_app(settings)` assembles the application; nothing else lives here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from backend.auth.service import AuthService
from backend.broker import create_broker
from backend.config import Settings, get_settings
from backend.hub.hub import Hub
from backend.logs import configure_logging
from backend.metrics import Metrics
from backend.routes import admin, auth, history, ops, ws
from backend.routes.client import ClientFiles
from backend.storage import create_store


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    store = create_store(settings.database_url, settings.store_batch_size)
    hub = Hub(settings, create_broker(settings.broker_url), Metrics(), store)
    authority = AuthService(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        await authority.start()  # after the hub: its store has run the migrations
        try:
            yield
        finally:
            await authority.stop()
            await hub.stop()

    app = FastAPI(title="WebSocket_DeSafio", lifespan=lifespan)
    app.state.settings = settings
    app.state.hub = hub
    app.state.auth = authority
    app.include_router(ops.router)
    app.include_router(ws.router)
    app.include_router(history.router)
    app.include_router(auth.router)
    app.include_router(admin.router)
    app.add_exception_handler(RequestValidationError, auth.validation_without_input)
    frontend = Path(settings.frontend_dir)
    if frontend.is_dir():
        app.mount("/client", ClientFiles(directory=frontend, html=True), name="client")
    return app
