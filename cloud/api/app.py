"""The operations center's API: ``create_app(settings)`` builds the FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cloud.api.deps import Services
from cloud.api.publisher import ConfigPublisher
from cloud.api.ratelimit import RateLimiter
from cloud.api.registry import Registry
from cloud.api.routes import admin, alerts, cities, configs, enrolment, snapshots
from cloud.api.settings import ApiSettings
from cloud.api.snapshots import SnapshotStore
from cloud.api.state import State
from cloud.influx_query import InfluxQuery, QueryError

DESCRIPTION = """Registry, fleet status, AQI/WQI, alerts, config versions and camera snapshots of the
cities this operations center serves. Every call needs `Authorization: Bearer <token>`; tokens come
from `ioc cloud token create` and carry one role: operator, engineer, technician or admin."""


def create_app(settings: ApiSettings) -> FastAPI:
    """Raises ConfigError (every problem of every city file) or StateError before serving anything."""
    registry = Registry.load(settings.configs_dir)
    state = State(settings.state_path)
    svc = Services(
        settings=settings,
        state=state,
        registry=registry,
        influx=InfluxQuery(
            settings.influxdb_url, settings.database, settings.influxdb_token.get_secret_value(), timeout_s=15
        ),
        publisher=ConfigPublisher(settings.broker.host, settings.broker.port) if settings.broker else None,
        limiter=RateLimiter(settings.rate_per_minute),
        snapshots=SnapshotStore(settings.snapshots_dir, settings.snapshots_per_camera),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="ioc-telemetry operations center API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Checked against Content-Length first, then counted while streaming: an oversized body is
        # refused with 413 before it is read whole.
        max_body_size=settings.max_body_bytes,
    )
    app.state.services = svc
    for module in (cities, alerts, configs, enrolment, admin):
        app.include_router(module.router)
    app.include_router(snapshots.router, max_body_size=settings.max_snapshot_bytes)

    @app.exception_handler(QueryError)
    async def influx_unavailable(_request: Request, exc: QueryError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "10"})

    return app
