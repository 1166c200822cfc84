"""The platform in-process: a real `kubewise server` app (uvicorn) on a loopback port, in a thread.

`kubewise demo` runs it on a SQLite file; the CLI and controller tests run it the same way.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from kubewise.server.app import create_app, utc_now
from kubewise.server.db.engine import transaction
from kubewise.server.services.identity import create_api_key, create_org
from kubewise.server.settings import ServerSettings

__all__ = ["embedded_platform", "free_port"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def embedded_platform(settings: ServerSettings, org: str, port: int = 0) -> Iterator[tuple[str, str]]:
    """Serve the platform on `settings`' database with a new organization `org`; yields the URL and a
    full API key of that organization. Stops the server when the block ends."""
    app = create_app(settings)
    with transaction(app.state.platform.sessions) as session:
        create_org(session, org, utc_now())
        _, key = create_api_key(session, org, "full", utc_now(), name="kubewise demo")
    port = port or free_port()
    with socket.socket() as probe:  # uvicorn would exit its thread on a taken port: say it here
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise RuntimeError(
                f"the platform did not start: 127.0.0.1:{port} is taken ({exc.strerror})"
            ) from None
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, name="platform", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the platform did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", key
    finally:
        server.should_exit = True
        thread.join(10)
