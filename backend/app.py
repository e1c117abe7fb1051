"""`create_app(settings)` assembles the application; nothing else lives here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from backend.auth.service import AuthService
from backend.broker import create_broker
from backend.budgets import Occupancy, Place, Proxies
from backend.config import Settings, get_settings
from backend.hub.hub import Hub
from backend.logs import configure_logging
from backend.metrics import Metrics
from backend.push import create_push
from backend.routes import admin, auth, history, ops, ws
from backend.routes import push as push_routes
from backend.routes.client import ClientFiles
from backend.routes.unavailable import OUTAGES, storage_unavailable
from backend.storage import create_store


class Desafio:
    """The ASGI application: `/ws` straight to the hub's endpoint, everything else to FastAPI."""

    def __init__(self, api: FastAPI) -> None:
        self.api = api
        self.state = api.state
        settings: Settings = api.state.settings
        # WebSocket sessions, from the handshake to their end (logins by first frame included),
        # in total and per client address (a trusted proxy's forwarded one): MAX_CONNECTIONS.
        self.sessions = Occupancy(
            settings.max_connections,
            settings.max_connections_per_address,
            Proxies(settings.forwarded_allow_ips),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == scope.get("root_path", "") + "/ws":
            scope["app"] = self.api  # what FastAPI would set: handlers find the hub through it
            client = scope.get("client")
            address = client[0] if client else None
            crowded = self.sessions.enter(address)
            release = Place(self.sessions, address) if crowded is None else None
            handed_over = False
            try:
                # The native protocol keeps the session (and this count) after we return.
                handed_over = await ws.endpoint(scope, receive, send, crowded, release)
            finally:
                if release is not None and not handed_over:
                    release()
        else:
            await self.api(scope, receive, send)


def create_app(settings: Settings | None = None) -> Desafio:
    settings = settings or get_settings()
    configure_logging(settings)
    store = create_store(settings.database_url, settings.store_batch_size)
    hub = Hub(settings, create_broker(settings.broker_url), Metrics(), store)
    authority = AuthService(settings)
    # Web Push (docs/push.md): None unless VAPID_PRIVATE_KEY is set.
    push = create_push(settings, authority, hub.metrics)
    if push is not None:
        hub.listeners.append(push.notifier.published)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        await authority.start()  # after the hub: its store has run the migrations
        if push is not None:
            await push.start()
        try:
            yield
        finally:
            if push is not None:
                await push.stop()
            await authority.stop()
            await hub.stop()

    app = FastAPI(title="WebSocket_DeSafio", lifespan=lifespan)
    app.state.settings = settings
    app.state.hub = hub
    app.state.auth = authority
    app.state.push = push
    app.include_router(ops.router)
    app.include_router(history.router)
    app.include_router(auth.router)
    app.include_router(admin.router)
    app.include_router(push_routes.router)
    app.add_exception_handler(RequestValidationError, auth.validation_without_input)
    for outage in OUTAGES:
        app.add_exception_handler(outage, storage_unavailable)
    if settings.allowed_origins:
        # ALLOWED_ORIGINS: pages from these origins may call the API (history, login, push);
        # /ws checks Origin itself (backend/auth/websocket.origin_refusal), past this stack.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    frontend = Path(settings.frontend_dir)
    if frontend.is_dir():
        app.mount("/client", ClientFiles(directory=frontend, html=True), name="client")
    return Desafio(app)
