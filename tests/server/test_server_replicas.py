"""Several replicas on one PostgreSQL: no state in the process, races settled by the database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from conftest import EKS, FakeClock
from fastapi.testclient import TestClient
from pg_server import PostgresServer

from kubewise.server.app import create_app
from kubewise.server.db.engine import transaction
from kubewise.server.services.identity import create_api_key, create_org
from kubewise.server.settings import ServerSettings


def _replicas(url: str, n: int) -> tuple[list[TestClient], dict[str, str]]:
    clock = FakeClock()
    apps = [create_app(ServerSettings(database_url=url), clock) for _ in range(n)]
    with transaction(apps[0].state.platform.sessions) as session:
        create_org(session, "acme", clock())
        _, key = create_api_key(session, "acme", "full", clock())
    return [TestClient(app) for app in apps], {"X-API-Key": key}


def test_the_same_cluster_registered_on_every_replica_at_once_is_one_cluster(
    postgres: PostgresServer,
) -> None:
    clients, key = _replicas(postgres.new_database(), 4)
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda i: clients[i % 4].post("/v1/kubernetes/external-clusters", json=EKS, headers=key),
                range(16),
            )
        )
    assert all(r.status_code in (200, 201) for r in answers), [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(r.status_code == 201 for r in answers) == 1
    listed = clients[3].get("/v1/kubernetes/external-clusters", headers=key).json()["items"]
    assert len(listed) == 1


def test_a_delta_retried_on_two_replicas_at_once_is_applied_once(postgres: PostgresServer) -> None:
    clients, key = _replicas(postgres.new_database(), 2)
    cid = clients[0].post("/v1/kubernetes/external-clusters", json=EKS, headers=key).json()["id"]
    ns = {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "default"}}
    clients[1].post(f"/v1/agent/clusters/{cid}/snapshot", json={"sequence": 1, "items": [ns]}, headers=key)
    delta = {"sequence": 2, "changes": [{"op": "upsert", "object": {**ns, "metadata": {"name": "shop"}}}]}
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(
                lambda i: clients[i % 2].post(f"/v1/agent/clusters/{cid}/deltas", json=delta, headers=key),
                range(6),
            )
        )
    assert [r.status_code for r in answers] == [200] * 6
    assert sum(r.json()["applied"] for r in answers) == 1
    nxt = {"sequence": 3, "changes": []}
    assert (
        clients[0].post(f"/v1/agent/clusters/{cid}/deltas", json=nxt, headers=key).json()["applied"] is True
    )


def test_replicas_starting_together_migrate_once(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    with ThreadPoolExecutor(4) as pool:
        apps = list(pool.map(lambda _: create_app(ServerSettings(database_url=url)), range(4)))
    for app in apps:
        assert TestClient(app).get("/readyz").json() == {"status": "ok"}
