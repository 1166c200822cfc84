"""Cost and savings of a connected cluster: the same report `kubewise savings` gives for the same objects."""

from __future__ import annotations

from conftest import Platform
from test_server_ingest import _example_items

from kubewise.catalog.loading import load_region
from kubewise.model import load_snapshot_from_objects
from kubewise.optimizer import Constraints, savings_report


def test_savings_match_the_cli_report(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    items = _example_items()
    platform.client.post(
        f"/v1/agent/clusters/{cluster_id}/snapshot", json={"sequence": 1, "items": items}, headers=acme
    )
    read = platform.new_key("acme", "read")
    got = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/savings", headers=read).json()
    want = savings_report(
        load_snapshot_from_objects(items), load_region("aws", "us-east-1"), Constraints()
    ).to_dict()
    assert got["clusterId"] == cluster_id
    assert got["current"] == want["current"]
    assert [(p["name"], p["hourly_cost"]) for p in got["plans"]] == [
        (p["name"], p["hourly_cost"]) for p in want["plans"]
    ]
    cost = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/cost", headers=read).json()
    assert cost["hourlyCost"] == want["current"]["hourly_cost"]
    nodes = platform.client.get(f"/v1/kubernetes/external-clusters/{cluster_id}/nodes", headers=read).json()[
        "items"
    ]
    assert [n["name"] for n in nodes] == [n["name"] for n in want["current"]["nodes"]]
    assert all(n["hourlyPrice"] and n["hourlyPrice"] > 0 for n in nodes)


def test_no_snapshot_yet_is_409(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    r = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/savings", headers=acme)
    assert r.status_code == 409 and "snapshot" in r.json()["message"]


def test_unknown_region_is_409_saying_so(platform: Platform, acme: dict[str, str]) -> None:
    body = {"eks": {"accountId": "1", "region": "mars-north-1", "clusterName": "m"}}
    cid = platform.client.post("/v1/kubernetes/external-clusters", json=body, headers=acme).json()["id"]
    ns = {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "default"}}
    platform.client.post(
        f"/v1/agent/clusters/{cid}/snapshot", json={"sequence": 1, "items": [ns]}, headers=acme
    )
    r = platform.client.get(f"/v1/kubernetes/clusters/{cid}/savings", headers=acme)
    assert r.status_code == 409 and "mars-north-1" in r.json()["message"]
