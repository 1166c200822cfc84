"""`/v1/kubernetes/clusters/{id}/workloads...`: requests against recommendations, why there is none
yet, apply on demand and from the loop (apply mode, hysteresis, once a day), savings reported apart,
organization isolation and key scopes."""

from __future__ import annotations

from typing import Any

from conftest import Platform

from kube_objects import node_json
from rightsizing_objects import OPT_IN, deployment, namespace, pod, replicaset, usage

AGENT = "/v1/agent/clusters"
MODE = "rightsizing.kubewise.dev/mode"
ON = {"rightsizing": {"enabled": True}}


def _world(web: dict[str, str] | None = None, shop: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Four m5.large nodes, each running one of web's (1500m) pods; api and web in namespace shop."""
    items: list[dict[str, Any]] = [node_json(f"n{i}") for i in range(4)]
    items += [
        namespace("shop", shop),
        deployment("web", replicas=4, annotations=web),
        replicaset("web-5d8", "web"),
    ]
    items += [pod(f"web-5d8-{i}", ("ReplicaSet", "web-5d8"), node=f"n{i}") for i in range(4)]
    items += [deployment("api", replicas=0)]
    return items


def _setup(
    platform: Platform, key: dict[str, str], cluster_id: str, items: list[dict[str, Any]], policies: Any = ON
) -> None:
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/snapshot", json={"sequence": 1, "items": items}, headers=key
    )
    assert r.status_code == 200, r.text
    r = platform.client.put(f"/v1/kubernetes/clusters/{cluster_id}/policies", json=policies, headers=key)
    assert r.status_code == 200, r.text


def _feed(platform: Platform, key: dict[str, str], cluster_id: str, hours: int, cpu: float = 50) -> None:
    """An hourly usage report of web's pods for `hours` hours (the platform's clock moves with it)."""
    for _ in range(hours):
        platform.clock.advance(3600)
        pods = {f"web-5d8-{i}": (cpu + i, 200 * 2**20) for i in range(4)}
        r = platform.client.post(
            f"{AGENT}/{cluster_id}/usage", json=usage(platform.clock().isoformat(), pods), headers=key
        )
        assert r.status_code == 200 and r.json()["accepted"] == 4, r.text


def _workloads(platform: Platform, key: dict[str, str], cluster_id: str) -> dict[str, Any]:
    r = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/workloads", headers=key)
    assert r.status_code == 200, r.text
    return {f"{w['kind']}/{w['name']}": w for w in r.json()["items"]}


def test_no_recommendation_says_why_then_one_after_a_day_of_data(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _setup(platform, acme, cluster_id, _world(web={OPT_IN: "true"}))
    found = _workloads(platform, acme, cluster_id)
    assert sorted(found) == ["Deployment/api", "Deployment/web"]
    assert found["Deployment/api"]["optedIn"] is False
    assert found["Deployment/api"]["reason"] == (
        'not opted in: annotate the Deployment or its namespace with rightsizing.kubewise.dev/enabled: "true"'
    )
    assert found["Deployment/web"]["reason"].startswith("no usage data yet")
    _feed(platform, acme, cluster_id, 13)
    web = _workloads(platform, acme, cluster_id)["Deployment/web"]
    assert web["containers"][0]["recommended"] is None and "24" in web["reason"] and web["dataHours"] < 24
    _feed(platform, acme, cluster_id, 13)
    web = _workloads(platform, acme, cluster_id)["Deployment/web"]
    assert web["reason"] is None and web["dataHours"] >= 24 and web["mode"] == "recommend"
    app = web["containers"][0]
    assert app["requests"] == {"cpu": 1500.0, "memory": 2.0 * 2**30}
    assert 50 <= app["recommended"]["cpu"] < 200 and 200 * 2**20 <= app["recommended"]["memory"] < 2**30
    assert web["hourlySavings"] > 0  # 4 replicas asking for far more than they use


def test_namespace_opt_in_workload_opt_out_and_the_cluster_switch(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    items = _world(web={OPT_IN: "false"}, shop={OPT_IN: "true", MODE: "apply"})
    _setup(platform, acme, cluster_id, items, policies={})
    found = _workloads(platform, acme, cluster_id)
    assert found["Deployment/api"]["optedIn"] is True and found["Deployment/api"]["mode"] == "apply"
    assert found["Deployment/api"]["reason"].startswith("rightsizing is off for this cluster")
    assert found["Deployment/web"]["optedIn"] is False and found["Deployment/web"]["reason"].startswith(
        "opted out"
    )


def test_apply_queues_an_action_with_details_for_the_controller(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _setup(platform, acme, cluster_id, _world(web={OPT_IN: "true"}))
    base = f"/v1/kubernetes/clusters/{cluster_id}/workloads/shop/Deployment/web"
    early = platform.client.post(f"{base}/apply", headers=acme)
    assert early.status_code == 409 and "no usage data yet" in early.json()["message"]
    _feed(platform, acme, cluster_id, 26)
    read = platform.new_key("acme", "read")
    assert platform.client.get(base, headers=read).status_code == 200  # a read key may look
    assert platform.client.post(f"{base}/apply", headers=read).status_code == 403  # ... not apply
    r = platform.client.post(f"{base}/apply", headers=acme)
    assert r.status_code == 202, r.text
    agent = platform.new_key("acme", "agent", cluster_id)
    actions = platform.client.get(f"/v1/controller/clusters/{cluster_id}/actions", headers=agent).json()[
        "items"
    ]
    assert [a["id"] for a in actions] == [r.json()["actionId"]]
    details = actions[0]["details"]
    recommended = platform.client.get(base, headers=acme).json()["containers"][0]["recommended"]
    assert actions[0]["kind"] == "rightsize-workload" and "shop/web" in actions[0]["reason"]
    assert details == {
        "kind": "Deployment",
        "namespace": "shop",
        "name": "web",
        "containers": {"app": recommended},
    }
    assert platform.client.get(base.replace("/web", "/nope"), headers=acme).status_code == 404


def test_another_organization_sees_no_workloads(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _setup(platform, acme, cluster_id, _world(web={OPT_IN: "true"}))
    other = platform.new_org("globex")
    base = f"/v1/kubernetes/clusters/{cluster_id}/workloads"
    assert platform.client.get(base, headers=other).status_code == 404
    assert platform.client.get(f"{base}/shop/Deployment/web", headers=other).status_code == 404
    assert platform.client.post(f"{base}/shop/Deployment/web/apply", headers=other).status_code == 404
    agent = platform.new_key("acme", "agent", cluster_id)
    assert platform.client.get(base, headers=agent).status_code == 403  # agent keys only send data


def _loop_actions(platform: Platform, cluster_id: str) -> list[dict[str, Any]]:
    agent = platform.new_key("acme", "agent", cluster_id)
    items = platform.client.get(f"/v1/controller/clusters/{cluster_id}/actions", headers=agent).json()[
        "items"
    ]
    return [a for a in items if a["kind"] == "rightsize-workload"]


def test_apply_mode_acts_once_a_day_and_only_when_applying_is_enabled(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _setup(platform, acme, cluster_id, _world(web={OPT_IN: "true", MODE: "apply"}))
    _feed(platform, acme, cluster_id, 26)
    loop = platform.client.app.state.autoscaler  # type: ignore[attr-defined]
    assert loop.rightsize() == 0  # applyEnabled is off: recommend only
    r = platform.client.put(
        f"/v1/kubernetes/clusters/{cluster_id}/policies",
        json={"rightsizing": {"enabled": True, "applyEnabled": True}},
        headers=acme,
    )
    assert r.status_code == 200, r.text
    assert loop.rightsize() == 1
    assert loop.rightsize() == 0  # one pending already
    (action,) = _loop_actions(platform, cluster_id)
    agent = platform.new_key("acme", "agent", cluster_id)
    done = platform.client.post(
        f"/v1/controller/clusters/{cluster_id}/actions/{action['id']}/result",
        json={"status": "done"},
        headers=agent,
    )
    assert done.status_code == 200, done.text
    platform.clock.advance(3600)
    assert loop.rightsize() == 0  # done an hour ago: not again within a day
    platform.clock.advance(24 * 3600)
    assert loop.rightsize() == 1  # the snapshot still shows the old requests


def test_apply_mode_leaves_requests_within_ten_percent_alone(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    """The pods were resized in place: their template still says 1500m, the pods run close to the
    recommendation, and what the pods run is what counts."""
    items = _world(web={OPT_IN: "true", MODE: "apply"})
    _setup(platform, acme, cluster_id, items, {"rightsizing": {"enabled": True, "applyEnabled": True}})
    _feed(platform, acme, cluster_id, 26)
    rec = _workloads(platform, acme, cluster_id)["Deployment/web"]["containers"][0]["recommended"]
    cpu, memory = f"{round(rec['cpu'] * 1.05)}m", str(round(rec["memory"] * 0.95))
    resized = [
        pod(f"web-5d8-{i}", ("ReplicaSet", "web-5d8"), node=f"n{i}", cpu=cpu, memory=memory) for i in range(4)
    ]
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/deltas",
        json={"sequence": 2, "changes": [{"op": "upsert", "object": p} for p in resized]},
        headers=acme,
    )
    assert r.status_code == 200, r.text
    current = _workloads(platform, acme, cluster_id)["Deployment/web"]["containers"][0]["requests"]
    assert current["cpu"] == round(rec["cpu"] * 1.05)  # the pods' requests, not the template's
    loop = platform.client.app.state.autoscaler  # type: ignore[attr-defined]
    assert loop.rightsize() == 0 and _loop_actions(platform, cluster_id) == []


def test_savings_report_rightsizing_apart_from_node_savings(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _setup(platform, acme, cluster_id, _world(web={OPT_IN: "true"}))
    before = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/savings", headers=acme).json()
    assert before["rightsizing"] == {"hourlySavings": 0.0, "workloads": 0}
    _feed(platform, acme, cluster_id, 26)
    after = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/savings", headers=acme).json()
    assert after["rightsizing"]["workloads"] == 1
    cheapest = min(p["hourly_cost"] for p in after["plans"])
    # four 1500m pods need four nodes; at their recommended requests they fit on one
    assert 0 < after["rightsizing"]["hourlySavings"] <= cheapest
    assert after["plans"] == before["plans"]  # node savings are planned on the current requests


def test_rightsizing_policies_are_validated_by_field(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    url = f"/v1/kubernetes/clusters/{cluster_id}/policies"
    r = platform.client.put(url, json={"rightsizing": {"cpuPercentile": 150}}, headers=acme)
    assert r.status_code == 422 and r.json()["fieldViolations"][0]["field"] == "rightsizing.cpuPercentile"
    r = platform.client.put(url, json={"rightsizing": {"memoryLimitPolicy": "double"}}, headers=acme)
    assert r.status_code == 422 and "keep-ratio" in r.text
    r = platform.client.put(
        url, json={"rightsizing": {"minCpuMillicores": 500, "maxCpuMillicores": 100}}, headers=acme
    )
    assert r.status_code == 422 and "must not exceed maxCpuMillicores" in r.text
    doc = platform.client.get(url, headers=acme).json()["rightsizing"]
    assert doc["enabled"] is False and doc["applyEnabled"] is False and doc["minDataHours"] == 24
