"""`serve`: the process behind `kubewise server` -- JSON logs on stderr, migrations, then uvicorn."""

from __future__ import annotations

import logging
import sys

import uvicorn

from kubewise.server.app import create_app
from kubewise.server.observability import JsonFormatter
from kubewise.server.settings import ServerSettings

__all__ = ["serve"]


def serve(settings: ServerSettings, host: str, port: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler], force=True)
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
