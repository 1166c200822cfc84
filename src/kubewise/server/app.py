"""`create_app`: the FastAPI application over one database; migrations are applied when it is built."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI

from kubewise import __version__
from kubewise.server.context import Clock, Platform
from kubewise.server.db.engine import make_engine, make_sessions
from kubewise.server.db.migrate import upgrade
from kubewise.server.errors import install_error_handlers
from kubewise.server.observability import Metrics, install_observability
from kubewise.server.routes import agent, clusters, health
from kubewise.server.settings import ServerSettings

__all__ = ["create_app", "utc_now"]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(settings: ServerSettings, clock: Clock = utc_now, *, migrate: bool = True) -> FastAPI:
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    app = FastAPI(
        title="kubewise",
        version=__version__,
        description="Self-hosted Kubernetes cost optimization: clusters, agent ingest, policies, savings.",
    )
    app.state.platform = Platform(settings, make_sessions(engine), clock)
    app.state.metrics = Metrics()
    install_error_handlers(app)
    install_observability(app, app.state.metrics)
    for module in (health, clusters, agent):
        app.include_router(module.router)
    return app
