"""Server fixtures: every test that takes `platform` runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pg_server import PostgresServer

from kubewise.server.app import create_app
from kubewise.server.db.engine import transaction
from kubewise.server.services.identity import create_api_key, create_org
from kubewise.server.settings import ServerSettings


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@dataclass
class Platform:
    client: TestClient
    clock: FakeClock
    settings: ServerSettings
    url: str

    def new_key(self, org: str, scope: str = "full", cluster_id: str | None = None) -> dict[str, str]:
        sessions = self.client.app.state.platform.sessions  # type: ignore[attr-defined]
        with transaction(sessions) as session:
            _, key = create_api_key(session, org, scope, self.clock(), cluster_id=cluster_id)
        return {"X-API-Key": key}

    def new_org(self, name: str) -> dict[str, str]:
        sessions = self.client.app.state.platform.sessions  # type: ignore[attr-defined]
        with transaction(sessions) as session:
            create_org(session, name, self.clock())
        return self.new_key(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kubewise.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def platform(database_url: str) -> Iterator[Platform]:
    clock = FakeClock()
    settings = ServerSettings(
        database_url=database_url,
        not_responding_after_seconds=300,
        disconnected_after_seconds=3600,
        max_body_bytes=4 * 1024 * 1024,
        autoscaler_interval_seconds=0,  # tests run cycles themselves (`app.state.autoscaler.run_once()`)
    )
    app = create_app(settings, clock)
    with TestClient(app) as client:
        yield Platform(client, clock, settings, database_url)
    app.state.platform.sessions.kw["bind"].dispose()


EKS = {"name": "prod", "eks": {"accountId": "111122223333", "region": "us-east-1", "clusterName": "prod"}}


@pytest.fixture
def acme(platform: Platform) -> dict[str, str]:
    """A full key of organization acme."""
    return platform.new_org("acme")


@pytest.fixture
def cluster_id(platform: Platform, acme: dict[str, str]) -> str:
    r = platform.client.post("/v1/kubernetes/external-clusters", json=EKS, headers=acme)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])
