"""`GET /v1/kubernetes/clusters/{id}/diagnosis`: policy problems from the stored snapshot, policies and
autoscaler state, on both databases."""

from __future__ import annotations

from typing import Any

from conftest import Platform
from test_server_autoscaler import _pod

from kube_objects import node_json
from rightsizing_objects import OPT_IN, deployment, pod, replicaset, usage

AGENT = "/v1/agent/clusters"
HEALTHY = {
    "enabled": True,
    "unschedulablePods": {"enabled": True},
    "nodeDownscaler": {"enabled": True, "emptyNodes": {"enabled": True, "delaySeconds": 300}},
    "spotInstances": {
        "enabled": True,
        "spotDiversityEnabled": True,
        "spotDiversityPriceIncreaseLimitPercent": 25,
    },
    "evictor": {"enabled": True},
}


def _deployment(name: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations},
        "spec": {"replicas": 1},
    }


def _setup(
    platform: Platform, key: dict[str, str], cluster_id: str, items: list[dict[str, Any]], policies: Any
) -> None:
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/snapshot", json={"sequence": 1, "items": items}, headers=key
    )
    assert r.status_code == 200, r.text
    r = platform.client.put(f"/v1/kubernetes/clusters/{cluster_id}/policies", json=policies, headers=key)
    assert r.status_code == 200, r.text


def _diagnosis(platform: Platform, key: dict[str, str], cluster_id: str) -> list[dict[str, Any]]:
    r = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/diagnosis", headers=key)
    assert r.status_code == 200, r.text
    assert r.json()["clusterId"] == cluster_id
    return list(r.json()["problems"])


def _busy() -> list[dict[str, Any]]:
    return [node_json("n1"), _pod("busy", "1800m", "n1")]


def test_a_healthy_cluster_has_no_problem(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    _setup(platform, acme, cluster_id, _busy(), HEALTHY)
    assert _diagnosis(platform, acme, cluster_id) == []


def test_pending_pods_with_scale_up_off_and_a_read_key(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _setup(platform, acme, cluster_id, [*_busy(), _pod("web-0", "1500m")], {"enabled": True})
    (problem,) = [
        p
        for p in _diagnosis(platform, platform.new_key("acme", "read"), cluster_id)
        if p["severity"] == "error"
    ]
    assert problem["check"] == "policy.unschedulable-pods-disabled"
    assert problem["evidence"] == ["default/web-0"] and "unschedulablePods.enabled" in problem["cause"]
    assert set(problem) == {"check", "severity", "title", "cause", "fix", "evidence"}


def test_spot_shortage_reported_by_the_controller_with_diversity_off(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    tight = HEALTHY | {"spotInstances": {"enabled": True, "spotDiversityEnabled": False}}
    _setup(platform, acme, cluster_id, _busy(), tight)
    assert _diagnosis(platform, acme, cluster_id) == []  # no shortage seen yet: nothing to say
    agent = platform.new_key("acme", "agent", cluster_id)
    short = {"unavailable": [{"instanceType": "m5.large", "capacityType": "spot"}], "seconds": 600}
    r = platform.client.post(f"/v1/controller/clusters/{cluster_id}/capacity", json=short, headers=agent)
    assert r.status_code == 200, r.text
    (problem,) = _diagnosis(platform, acme, cluster_id)
    assert problem["check"] == "policy.spot-diversity-too-tight" and "20-30" in problem["fix"]
    assert "spot types without capacity now: m5.large" in problem["evidence"]
    platform.clock.advance(601)  # the shortage is over
    assert _diagnosis(platform, acme, cluster_id) == []


def test_rightsizing_opt_in_and_a_day_of_data(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    items = [*_busy(), _deployment("web", {"rightsizing.kubewise.dev/enabled": "yes"})]
    _setup(platform, acme, cluster_id, items, HEALTHY)
    (problem,) = _diagnosis(platform, acme, cluster_id)
    assert problem["check"] == "policy.rightsizing-not-opted-in"
    assert problem["evidence"] == ["Deployment default/web: 'yes'"]
    items[-1] = deployment("web", "default", annotations={OPT_IN: "true"})
    items += [replicaset("web-5d8", "web", "default"), pod("web-5d8-0", ("ReplicaSet", "web-5d8"), "default")]
    _setup(platform, acme, cluster_id, items, HEALTHY)
    (problem,) = _diagnosis(platform, acme, cluster_id)
    assert problem["check"] == "policy.rightsizing-disabled"  # opted in, but off for the cluster
    _setup(platform, acme, cluster_id, items, {**HEALTHY, "rightsizing": {"enabled": True}})
    (problem,) = _diagnosis(platform, acme, cluster_id)
    assert problem["check"] == "policy.rightsizing-insufficient-data" and "has 0.0 h" in problem["title"]
    assert "no usage sample" in problem["cause"] and "metrics-server" in problem["fix"]
    agent = platform.new_key("acme", "agent", cluster_id)
    for hour in range(25):  # a day of the agent's usage reports: the oldest sample dates the data
        report = usage(platform.clock().isoformat(), {"web-5d8-0": (100 + hour, 300 * 2**20)}, "default")
        r = platform.client.post(f"/v1/agent/clusters/{cluster_id}/usage", json=report, headers=agent)
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
        if hour == 11:
            (problem,) = _diagnosis(platform, acme, cluster_id)
            assert "has 11.0 h" in problem["title"] and "no usage sample" not in problem["cause"]
        platform.clock.advance(3600)
    assert _diagnosis(platform, acme, cluster_id) == []


def test_scope_other_orgs_and_no_snapshot(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    url = f"/v1/kubernetes/clusters/{cluster_id}/diagnosis"
    r = platform.client.get(url, headers=acme)
    assert r.status_code == 409 and "snapshot" in r.json()["message"]
    _setup(platform, acme, cluster_id, _busy(), HEALTHY)
    assert platform.client.get(url, headers=platform.new_org("other")).status_code == 404
    assert platform.client.get(url, headers=platform.new_key("acme", "agent", cluster_id)).status_code == 403
    assert platform.client.get(url).status_code == 401
