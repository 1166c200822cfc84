"""External clusters: registration (idempotent, per provider), listing, status, Reconnect, delete."""

from __future__ import annotations

import pytest
from conftest import EKS, Platform

LIST = "/v1/kubernetes/external-clusters"


def test_registration_is_idempotent_per_identity(platform: Platform, acme: dict[str, str]) -> None:
    first = platform.client.post(LIST, json=EKS, headers=acme)
    again = platform.client.post(LIST, json={"eks": {**EKS["eks"], "clusterName": "PROD"}}, headers=acme)
    other = platform.client.post(LIST, json={"eks": {**EKS["eks"], "region": "eu-west-1"}}, headers=acme)
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"] != other.json()["id"]
    body = first.json()
    assert body["name"] == "prod" and body["providerType"] == "eks" and body["region"] == "us-east-1"
    assert body["eks"] == EKS["eks"] and "gke" not in body
    listed = {c["id"] for c in platform.client.get(LIST, headers=acme).json()["items"]}
    assert listed == {first.json()["id"], other.json()["id"]}


@pytest.mark.parametrize(
    ("body", "provider", "region"),
    [
        ({"gke": {"projectId": "p1", "location": "us-central1-a", "clusterName": "g"}}, "gke", "us-central1"),
        (
            {"aks": {"subscriptionId": "s", "resourceGroup": "rg", "location": "eastus", "clusterName": "a"}},
            "aks",
            "eastus",
        ),
        ({"kops": {"region": "us-west-2", "clusterName": "k.example.com"}}, "kops", "us-west-2"),
    ],
)
def test_other_providers(
    platform: Platform, acme: dict[str, str], body: dict, provider: str, region: str
) -> None:
    r = platform.client.post(LIST, json=body, headers=acme)
    assert r.status_code == 201, r.text
    assert r.json()["providerType"] == provider and r.json()["region"] == region
    assert r.json()["name"] == body[provider]["clusterName"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x"}, "body"),
        ({"eks": EKS["eks"], "gke": {"projectId": "p", "location": "l", "clusterName": "c"}}, "body"),
        ({"eks": {"accountId": "1", "region": "us-east-1"}}, "eks.clusterName"),
        ({"eks": {**EKS["eks"], "colour": "blue"}}, "eks.colour"),
    ],
)
def test_bad_registration_is_422_naming_the_field(
    platform: Platform, acme: dict[str, str], body: dict, field: str
) -> None:
    r = platform.client.post(LIST, json=body, headers=acme)
    assert r.status_code == 422
    assert field in [v["field"] for v in r.json()["fieldViolations"]]
    assert platform.client.get(LIST, headers=acme).json()["items"] == []


def _status(platform: Platform, headers: dict[str, str], cluster_id: str) -> str:
    return str(platform.client.get(f"{LIST}/{cluster_id}", headers=headers).json()["status"])


def test_status_lifecycle_and_reconnect(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    beat = f"/v1/agent/clusters/{cluster_id}/heartbeat"
    assert _status(platform, acme, cluster_id) == "Connecting"
    r = platform.client.post(beat, json={"agentVersion": "0.1.0"}, headers=acme)
    assert r.json() == {"status": "Connected", "resync": True}  # no snapshot yet
    assert _status(platform, acme, cluster_id) == "Connected"
    platform.clock.advance(299)
    assert _status(platform, acme, cluster_id) == "Connected"
    reconnect = f"{LIST}/{cluster_id}/reconnect"
    assert platform.client.post(reconnect, headers=acme).status_code == 409  # nothing to reconnect
    platform.clock.advance(2)
    assert _status(platform, acme, cluster_id) == "Not responding"
    platform.clock.advance(3600)
    assert _status(platform, acme, cluster_id) == "Disconnected"
    r = platform.client.post(reconnect, headers=acme)
    assert r.status_code == 200 and r.json()["status"] == "Connecting"
    platform.clock.advance(10)
    assert platform.client.post(beat, json={}, headers=acme).json()["status"] == "Connected"
    assert platform.client.get(f"{LIST}/{cluster_id}", headers=acme).json()["agentVersion"] == "0.1.0"


def test_never_connected_cluster_ends_disconnected(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    platform.clock.advance(3601)
    assert _status(platform, acme, cluster_id) == "Disconnected"


def test_delete_removes_the_cluster_and_its_data_only(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    agent = {
        "X-API-Key": platform.client.post(f"{LIST}/{cluster_id}/agent-key", headers=acme).json()["apiKey"]
    }
    node = {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "default"}}
    platform.client.post(
        f"/v1/agent/clusters/{cluster_id}/snapshot", json={"sequence": 1, "items": [node]}, headers=agent
    )
    platform.client.put(
        f"/v1/kubernetes/clusters/{cluster_id}/policies", json={"enabled": True}, headers=acme
    )
    assert platform.client.delete(f"{LIST}/{cluster_id}", headers=acme).status_code == 204
    assert platform.client.get(f"{LIST}/{cluster_id}", headers=acme).status_code == 404
    assert (
        platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/policies", headers=acme).status_code == 404
    )
    assert (
        platform.client.post(f"/v1/agent/clusters/{cluster_id}/heartbeat", json={}, headers=agent).status_code
        == 401
    )
    again = platform.client.post(LIST, json=EKS, headers=acme)  # registering it again starts afresh
    assert again.status_code == 201 and again.json()["id"] != cluster_id
