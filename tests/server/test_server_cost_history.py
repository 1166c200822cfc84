"""Cost over time: the server's loop samples each cluster's node cost; the API and console show it."""

from __future__ import annotations

from conftest import Platform
from test_server_console import _sign_in

from kube_objects import node_json

AGENT = "/v1/agent/clusters"


def test_samples_every_five_minutes_follow_the_nodes(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/snapshot", json={"sequence": 1, "items": [node_json("n1")]}, headers=acme
    )
    assert r.status_code == 200
    loop = platform.client.app.state.autoscaler  # type: ignore[attr-defined]
    assert loop.sample_costs() == 1
    platform.clock.advance(60)
    assert loop.sample_costs() == 0  # not due yet
    platform.clock.advance(300)
    delta = {"sequence": 2, "changes": [{"op": "upsert", "object": node_json("n2")}]}
    assert platform.client.post(f"{AGENT}/{cluster_id}/deltas", json=delta, headers=acme).status_code == 200
    assert loop.sample_costs() == 1
    history = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/cost-history", headers=acme).json()
    assert [(i["nodes"], i["hourlyCost"]) for i in history["items"]] == [(1, 0.096), (2, 0.192)]  # m5.large
    recent = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/cost-history?hours=1", headers=acme)
    assert len(recent.json()["items"]) == 2
    other = platform.new_org("globex")
    assert (
        platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/cost-history", headers=other).status_code
        == 404
    )
    bad = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/cost-history?hours=0", headers=acme)
    assert bad.status_code == 422
    _sign_in(platform, acme)
    page = platform.client.get(f"/console/clusters/{cluster_id}")
    assert 'aria-labelledby="cost-title"' in page.text and "$0.0960 to $0.1920 per hour" in page.text
