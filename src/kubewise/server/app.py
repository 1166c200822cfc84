"""`create_app`: the FastAPI application over one database; migrations are applied when it is built."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kubewise import __version__
from kubewise.server.autoscaler_loop import AutoscalerLoop
from kubewise.server.console import routes as console
from kubewise.server.context import Clock, Platform
from kubewise.server.db.engine import DatabaseError, make_engine, make_sessions, safe_url
from kubewise.server.db.migrate import upgrade
from kubewise.server.errors import install_error_handlers
from kubewise.server.observability import Metrics, install_observability
from kubewise.server.routes import (
    agent,
    cloud_credentials,
    clusters,
    controller,
    health,
    meta,
    usage,
    workloads,
)
from kubewise.server.settings import ServerSettings

__all__ = ["create_app", "open_database", "utc_now"]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def open_database(url: str, *, migrate: bool = True) -> sessionmaker[Session]:
    """Sessions on the database at `url`, its schema brought to head first. `DatabaseError` says what
    is wrong without the URL's password."""
    engine = make_engine(url)
    if migrate:
        try:
            upgrade(engine)
        except OperationalError as exc:  # the driver's first line says why
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise DatabaseError(f"cannot open the database {safe_url(url)}: {reason}") from None
    return make_sessions(engine)


def create_app(settings: ServerSettings, clock: Clock = utc_now, *, migrate: bool = True) -> FastAPI:
    sessions = open_database(settings.database_url, migrate=migrate)
    loop = AutoscalerLoop(sessions, clock, settings.autoscaler_interval_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loop.start()  # background work lives as long as the server does
        try:
            yield
        finally:
            loop.stop()

    app = FastAPI(
        title="kubewise",
        version=__version__,
        description="Self-hosted Kubernetes cost optimization: clusters, agent ingest, policies, savings.",
        lifespan=lifespan,
    )
    app.state.platform = Platform(settings, sessions, clock)
    app.state.autoscaler = loop
    app.state.metrics = Metrics()
    install_error_handlers(app)
    install_observability(app, app.state.metrics)
    for module in (health, clusters, agent, usage, workloads, meta, cloud_credentials):
        app.include_router(module.router)
    # every controller call notes the controller's version and time for the cluster view
    app.include_router(controller.router, dependencies=[Depends(meta.record_controller)])
    app.include_router(console.router)
    app.mount("/console/static", console.static_files(), name="console-static")
    return app
