"""Operations endpoints: the original welcome, health, readiness, metrics, stats, the schema."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import orjson
from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, Response

from backend import tasks
from backend.deps import HubDep
from backend.hub.hub import Hub
from backend.hub.stats import snapshot
from backend.protocol import json_schema

router = APIRouter()


@router.get("/")
async def root() -> dict[str, str]:
    """The original project's contract: this answer never changes."""
    return {"message": "Bem-vindo ao servidor WebSocket"}


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(hub: HubDep) -> Response:
    """Ready to take WebSocket clients: the hub runs, its broker is connected, and no
    supervised task is down (backend/tasks.py)."""
    if hub.ready and hub.broker.available and not tasks.failing:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "not ready"}, status_code=503)


@router.get("/metrics")
async def metrics(hub: HubDep) -> Response:
    return Response(generate_latest(hub.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/stats", response_class=Response)
async def stats(hub: HubDep) -> Response:
    """Connections (total, by mode, per room), message totals and rate, uptime."""
    return Response(_STATS.get(hub), media_type="application/json")


class _CostlyStats:
    """/stats, built anew for every request unless building it is costly: with tens of
    thousands of rooms one build took ~85 ms of the event loop, and ten requests a second (well
    within the HTTP budget) held it most of the time. A build that took `t` seconds is then
    served for up to t / STATS_LOOP_SHARE (at most STATS_MAX_AGE_S): /stats never takes more
    than that share of the loop, however often it is asked. Cheap builds are never reused."""

    def __init__(self) -> None:
        self._body = b""
        self._until = 0.0
        self._hub: Hub | None = None

    def get(self, hub: Hub) -> bytes:
        now = time.monotonic()
        if now < self._until and hub is self._hub:
            return self._body
        local = snapshot(hub)
        # In a cluster, the figures of every live instance (as of their last heartbeat) are
        # added.
        figures: dict[str, Any] = local if hub.cluster is None else hub.cluster.merge_stats(local)
        # Encoded by orjson, not FastAPI's jsonable_encoder: with thousands of rooms that walk
        # cost ~30 ms of the event loop per request.
        self._body, self._hub = orjson.dumps(figures), hub
        took = time.monotonic() - now
        if took >= STATS_COSTLY_S:
            self._until = now + took + min(took / STATS_LOOP_SHARE, STATS_MAX_AGE_S)
        return self._body


STATS_COSTLY_S = 0.01  # builds under this are never reused (every test, most deployments)
STATS_LOOP_SHARE = 0.05
STATS_MAX_AGE_S = 5.0
_STATS = _CostlyStats()


@router.get("/protocol/schema.json", response_class=Response)
async def protocol_schema() -> Response:
    """JSON Schema of client frames and server objects, generated from the Pydantic models."""
    return Response(_schema(), media_type="application/json")


@lru_cache(maxsize=1)
def _schema() -> bytes:
    # Built once: generating it took ~13 ms of the event loop, and anyone may ask 50 times a
    # second (a healthy client's p99 went past 1 s).
    return orjson.dumps(json_schema())
