"""A real `kubewise server` (uvicorn, SQLite) on a free loopback port, in a thread, for CLI tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from kubewise.server.app import create_app, utc_now
from kubewise.server.db.engine import transaction
from kubewise.server.services.identity import create_api_key, create_org
from kubewise.server.settings import ServerSettings

__all__ = ["live_server"]


@contextmanager
def live_server(tmp: Path) -> Iterator[tuple[str, str]]:
    """Yields the server's URL and a full API key of organization acme."""
    settings = ServerSettings(database_url=f"sqlite:///{tmp / 'server.db'}", autoscaler_interval_seconds=0)
    app = create_app(settings)  # autoscaler cycles only when a test asks (POST .../autoscaler/run)
    with transaction(app.state.platform.sessions) as session:
        create_org(session, "acme", utc_now())
        _, key = create_api_key(session, "acme", "full", utc_now())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", key
    finally:
        server.should_exit = True
        thread.join(10)
