"""X-API-Key: missing, malformed, wrong, revoked, read scope, agent scope, other organization."""

from __future__ import annotations

from conftest import EKS, Platform
from sqlalchemy import select

from kubewise.server.db.engine import transaction
from kubewise.server.db.tables import ApiKeyRow
from kubewise.server.services.identity import revoke_api_key

LIST = "/v1/kubernetes/external-clusters"


def test_missing_key_is_401_with_a_json_message(platform: Platform) -> None:
    r = platform.client.get(LIST)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    assert "X-API-Key" in r.json()["message"]


def test_malformed_and_wrong_keys_are_401(platform: Platform, acme: dict[str, str]) -> None:
    good = acme["X-API-Key"]
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    for key in ("nonsense", "kw_short_x", tampered, good.replace("kw_", "xx_")):
        r = platform.client.get(LIST, headers={"X-API-Key": key})
        assert r.status_code == 401, key
        assert r.json()["message"].startswith("invalid API key")
    assert platform.client.get(LIST, headers=acme).status_code == 200


def test_keys_are_stored_hashed_and_last_use_is_recorded(platform: Platform, acme: dict[str, str]) -> None:
    plaintext = acme["X-API-Key"]
    platform.client.get(LIST, headers=acme)
    sessions = platform.client.app.state.platform.sessions  # type: ignore[attr-defined]
    with transaction(sessions) as session:
        rows = session.scalars(select(ApiKeyRow)).all()
    assert len(rows) == 1
    secret = plaintext.split("_", 2)[2]
    assert secret not in rows[0].secret_hash and rows[0].secret_hash != secret
    assert rows[0].last_used_at == platform.clock()


def test_revoked_key_is_401(platform: Platform, acme: dict[str, str]) -> None:
    key_id = acme["X-API-Key"].split("_")[1]
    sessions = platform.client.app.state.platform.sessions  # type: ignore[attr-defined]
    with transaction(sessions) as session:
        revoke_api_key(session, "acme", key_id, platform.clock())
    r = platform.client.get(LIST, headers=acme)
    assert r.status_code == 401
    assert "revoked" in r.json()["message"]


def test_read_key_reads_but_cannot_write(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    read = platform.new_key("acme", "read")
    assert platform.client.get(f"{LIST}/{cluster_id}", headers=read).status_code == 200
    writes = [
        ("post", LIST, EKS),
        ("delete", f"{LIST}/{cluster_id}", None),
        ("put", f"/v1/kubernetes/clusters/{cluster_id}/policies", {}),
        ("post", f"{LIST}/{cluster_id}/agent-key", None),
    ]
    for method, path, body in writes:
        r = platform.client.request(method, path, json=body, headers=read)
        assert r.status_code == 403, path
        assert "'full'" in r.json()["message"]
    assert platform.client.get(f"{LIST}/{cluster_id}", headers=acme).status_code == 200  # nothing deleted


def test_another_organizations_cluster_is_404(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    other = platform.new_org("globex")
    for method, path in [
        ("get", f"{LIST}/{cluster_id}"),
        ("delete", f"{LIST}/{cluster_id}"),
        ("post", f"{LIST}/{cluster_id}/reconnect"),
        ("get", f"/v1/kubernetes/clusters/{cluster_id}/policies"),
        ("get", f"/v1/kubernetes/clusters/{cluster_id}/savings"),
        ("post", f"/v1/agent/clusters/{cluster_id}/heartbeat"),
    ]:
        r = platform.client.request(method, path, headers=other, json={} if method == "post" else None)
        assert r.status_code == 404, path
        assert r.json()["message"] == "cluster not found"
    assert platform.client.get(LIST, headers=other).json()["items"] == []
    missing = platform.client.get(f"{LIST}/00000000-0000-0000-0000-000000000000", headers=acme)
    assert missing.status_code == 404 and missing.json()["message"] == "cluster not found"


def test_agent_key_sends_only_its_own_clusters_data(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    r = platform.client.post(f"{LIST}/{cluster_id}/agent-key", headers=acme)
    assert r.status_code == 201
    agent = {"X-API-Key": r.json()["apiKey"]}
    assert (
        platform.client.post(f"/v1/agent/clusters/{cluster_id}/heartbeat", json={}, headers=agent).status_code
        == 200
    )
    other = platform.client.post(
        LIST, json={**EKS, "eks": {**EKS["eks"], "clusterName": "dev"}}, headers=acme
    )
    other_id = other.json()["id"]
    assert (
        platform.client.post(f"/v1/agent/clusters/{other_id}/heartbeat", json={}, headers=agent).status_code
        == 404
    )
    assert platform.client.get(LIST, headers=agent).status_code == 403
    read = platform.new_key("acme", "read")
    assert (
        platform.client.post(f"/v1/agent/clusters/{cluster_id}/heartbeat", json={}, headers=read).status_code
        == 403
    )
