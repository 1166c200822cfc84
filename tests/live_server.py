"""A real `kubewise server` (uvicorn, SQLite) on a free loopback port, in a thread, for CLI tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kubewise.demo.platform import embedded_platform
from kubewise.server.settings import ServerSettings

__all__ = ["live_server"]


@contextmanager
def live_server(tmp: Path) -> Iterator[tuple[str, str]]:
    """Yields the server's URL and a full API key of organization acme. Autoscaler cycles run only
    when a test asks (POST .../autoscaler/run)."""
    settings = ServerSettings(database_url=f"sqlite:///{tmp / 'server.db'}", autoscaler_interval_seconds=0)
    with embedded_platform(settings, "acme") as (url, key):
        yield url, key
