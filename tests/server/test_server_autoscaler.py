"""The autoscaler on the platform: cycles on demand and from the loop, actions stored with reasons."""

from __future__ import annotations

from typing import Any

from conftest import Platform

from kube_objects import node_json

AGENT = "/v1/agent/clusters"
ON = {
    "enabled": True,
    "unschedulablePods": {"enabled": True},
    "nodeDownscaler": {"enabled": True, "emptyNodes": {"enabled": True, "delaySeconds": 300}},
}


def _pod(name: str, cpu: str, node: str | None = None, owner: str = "ReplicaSet") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]
    }
    if node:
        spec["nodeName"] = node
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": "default",
            "ownerReferences": [
                {"kind": owner, "name": f"{name}-owner", "controller": True, "apiVersion": "v1", "uid": "u"}
            ],
        },
        "spec": spec,
        "status": {"phase": "Running" if node else "Pending"},
    }


def _setup(
    platform: Platform, acme: dict[str, str], cluster_id: str, items: list[dict[str, Any]], policies: Any
) -> None:
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/snapshot", json={"sequence": 1, "items": items}, headers=acme
    )
    assert r.status_code == 200, r.text
    r = platform.client.put(f"/v1/kubernetes/clusters/{cluster_id}/policies", json=policies, headers=acme)
    assert r.status_code == 200, r.text


def _run(platform: Platform, acme: dict[str, str], cluster_id: str) -> Any:
    r = platform.client.post(f"/v1/kubernetes/clusters/{cluster_id}/autoscaler/run", headers=acme)
    assert r.status_code == 200, r.text
    return r.json()


def test_pending_pods_become_an_add_nodes_action_with_its_reason_once(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    items = [node_json("n1"), _pod("busy", "1800m", "n1")] + [_pod(f"web-{i}", "1500m") for i in range(3)]
    _setup(platform, acme, cluster_id, items, ON)
    first = _run(platform, acme, cluster_id)
    assert first["enabled"] is True and first["unplaceable"] == []
    adds = [a for a in first["actions"] if a["kind"] == "add-nodes"]
    assert adds and sorted(p for a in adds for p in a["pods"]) == [
        "default/web-0",
        "default/web-1",
        "default/web-2",
    ]
    assert all(a["status"] == "pending" and "cheapest" in a["reason"] and a["hourlyPrice"] > 0 for a in adds)
    assert _run(platform, acme, cluster_id)["actions"] == []  # the same pods ask again: not stored twice
    listed = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/actions", headers=acme).json()[
        "items"
    ]
    assert sorted(a["id"] for a in listed) == sorted(a["id"] for a in first["actions"])
    assert all(a["reason"] for a in listed)


def test_empty_nodes_go_after_the_delay(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    items = [
        node_json("n1"),
        node_json("n2"),
        _pod("web", "500m", "n1"),
        _pod("agent", "100m", "n2", owner="DaemonSet"),
    ]
    _setup(platform, acme, cluster_id, items, ON)
    assert _run(platform, acme, cluster_id)["actions"] == []
    platform.clock.advance(301)
    later = _run(platform, acme, cluster_id)
    assert [(a["kind"], a["node"]) for a in later["actions"]] == [
        ("cordon-node", "n2"),
        ("delete-node", "n2"),
    ]
    assert "only DaemonSet pods for 301s" in later["actions"][1]["reason"]


def test_nothing_happens_while_automation_is_off_and_scopes_hold(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    items = [node_json("n1"), _pod("busy", "1800m", "n1"), _pod("web", "1500m")]
    _setup(platform, acme, cluster_id, items, {"enabled": False, "unschedulablePods": {"enabled": True}})
    off = _run(platform, acme, cluster_id)
    assert off["enabled"] is False and off["actions"] == []
    read = platform.new_key("acme", "read")
    assert (
        platform.client.post(f"/v1/kubernetes/clusters/{cluster_id}/autoscaler/run", headers=read).status_code
        == 403
    )
    assert (
        platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/actions", headers=read).status_code == 200
    )
    other = platform.new_org("globex")
    assert (
        platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/actions", headers=other).status_code == 404
    )


def test_the_loop_runs_automated_clusters_only(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    items = [node_json("n1"), _pod("busy", "1800m", "n1"), _pod("web", "1500m")]
    _setup(platform, acme, cluster_id, items, ON)
    waiting = platform.client.post(
        "/v1/kubernetes/external-clusters",
        json={
            "name": "idle",
            "eks": {"accountId": "111122223333", "region": "us-east-1", "clusterName": "idle"},
        },
        headers=acme,
    ).json()["id"]
    platform.client.put(
        f"/v1/kubernetes/clusters/{waiting}/policies", json=ON, headers=acme
    )  # no snapshot yet
    loop = platform.client.app.state.autoscaler  # type: ignore[attr-defined]
    assert loop.run_once() >= 1
    actions = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/actions", headers=acme).json()[
        "items"
    ]
    assert any(a["kind"] == "add-nodes" for a in actions)
    assert (
        platform.client.get(f"/v1/kubernetes/clusters/{waiting}/actions", headers=acme).json()["items"] == []
    )
    assert loop.run_once() == 0  # nothing new to ask for


def test_the_evictor_drains_a_node_whose_pods_fit_elsewhere(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    items = [node_json("n1"), node_json("n2"), _pod("web-a", "300m", "n1"), _pod("web-b", "300m", "n2")]
    for item in items[2:]:  # two replicas of one workload: neither is the only one
        item["metadata"]["ownerReferences"][0]["name"] = "web-rs"
        item["metadata"]["labels"] = {"app": "web"}
    policies = {"enabled": True, "evictor": {"enabled": True, "cycleInterval": 600}}
    _setup(platform, acme, cluster_id, items, policies)
    first = _run(platform, acme, cluster_id)
    kinds = [(a["kind"], a.get("node")) for a in first["actions"]]
    assert kinds in (
        [("cordon-node", "n1"), ("drain-node", "n1"), ("delete-node", "n1")],
        [("cordon-node", "n2"), ("drain-node", "n2"), ("delete-node", "n2")],
    )
    drain = first["actions"][1]
    assert len(drain["pods"]) == 1 and "fit on the other nodes" in drain["reason"]
    ran_at = [_evictor_ran_at(platform, cluster_id)]
    platform.clock.advance(60)
    assert _run(platform, acme, cluster_id)["actions"] == []
    ran_at.append(_evictor_ran_at(platform, cluster_id))
    platform.clock.advance(600)
    _run(platform, acme, cluster_id)
    ran_at.append(_evictor_ran_at(platform, cluster_id))
    assert ran_at[0] == ran_at[1] < ran_at[2]  # the evictor runs every cycleInterval, not every cycle


def _evictor_ran_at(platform: Platform, cluster_id: str) -> Any:
    from kubewise.server.db.engine import transaction
    from kubewise.server.db.tables import AutoscalerStateRow

    with transaction(platform.client.app.state.platform.sessions) as session:  # type: ignore[attr-defined]
        state = session.get(AutoscalerStateRow, cluster_id)
        assert state is not None and state.evictor_ran_at is not None
        return state.evictor_ran_at


def _agent_key(platform: Platform, acme: dict[str, str], cluster_id: str) -> dict[str, str]:
    r = platform.client.post(f"/v1/kubernetes/external-clusters/{cluster_id}/agent-key", headers=acme)
    assert r.status_code == 201, r.text
    return {"X-API-Key": r.json()["apiKey"]}


def test_the_controller_takes_pending_actions_and_reports_results(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    items = [node_json("n1"), _pod("busy", "1800m", "n1"), _pod("web", "1500m")]
    _setup(platform, acme, cluster_id, items, ON)
    (action,) = _run(platform, acme, cluster_id)["actions"]
    agent = _agent_key(platform, acme, cluster_id)
    base = f"/v1/controller/clusters/{cluster_id}"
    pending = platform.client.get(f"{base}/actions", headers=agent).json()["items"]
    assert [a["id"] for a in pending] == [action["id"]]
    done = {"status": "done", "message": "1 node created"}
    r = platform.client.post(f"{base}/actions/{action['id']}/result", json=done, headers=agent)
    assert r.status_code == 200 and r.json()["status"] == "done"
    again = platform.client.post(f"{base}/actions/{action['id']}/result", json=done, headers=agent)
    assert again.status_code == 200  # a retried report changes nothing
    flip = platform.client.post(
        f"{base}/actions/{action['id']}/result", json={"status": "failed"}, headers=agent
    )
    assert flip.status_code == 409
    assert platform.client.get(f"{base}/actions", headers=agent).json()["items"] == []
    # the node is starting: the same pending pod does not ask for another one
    assert _run(platform, acme, cluster_id)["actions"] == []
    platform.clock.advance(601)  # ... until it has had long enough to join
    assert [a["kind"] for a in _run(platform, acme, cluster_id)["actions"]] == ["add-nodes"]
    missing = platform.client.post(f"{base}/actions/nope/result", json=done, headers=agent)
    assert missing.status_code == 404


def test_a_capacity_report_moves_the_plan_to_other_offerings(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    items = [node_json("n1"), _pod("busy", "1800m", "n1"), _pod("web", "1500m")]
    _setup(platform, acme, cluster_id, items, ON)
    (first,) = _run(platform, acme, cluster_id)["actions"]
    agent = _agent_key(platform, acme, cluster_id)
    base = f"/v1/controller/clusters/{cluster_id}"
    platform.client.post(
        f"{base}/actions/{first['id']}/result",
        json={"status": "failed", "message": "capacity"},
        headers=agent,
    )
    report = {
        "unavailable": [{"instanceType": first["instanceType"], "capacityType": "on-demand"}],
        "seconds": 600,
    }
    r = platform.client.post(f"{base}/capacity", json=report, headers=agent)
    assert r.status_code == 200 and r.json()["unavailable"] == [f"{first['instanceType']}|on-demand"]
    (second,) = _run(platform, acme, cluster_id)["actions"]
    assert second["instanceType"] != first["instanceType"]
    bad = platform.client.post(
        f"{base}/capacity", json={"unavailable": [{"instanceType": "x"}]}, headers=agent
    )
    assert bad.status_code == 422


def test_a_replacement_that_cannot_start_keeps_the_node_it_was_to_replace(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    web_a, web_b = _pod("web-a", "300m", "n1"), _pod("web-b", "300m", "n2")
    for item in (web_a, web_b):  # two replicas: web-a may move, but n2 has no room for it
        item["metadata"]["ownerReferences"][0]["name"] = "web-rs"
    items = [node_json("n1"), node_json("n2"), web_a, web_b, _pod("busy", "1500m", "n2")]
    _setup(platform, acme, cluster_id, items, {"enabled": True, "evictor": {"enabled": True}})
    actions = _run(platform, acme, cluster_id)["actions"]
    assert [(a["kind"], a.get("node") or a.get("replaces")) for a in actions] == [
        ("add-nodes", "n1"),
        ("cordon-node", "n1"),
        ("drain-node", "n1"),
        ("delete-node", "n1"),
    ]
    agent = _agent_key(platform, acme, cluster_id)
    base = f"/v1/controller/clusters/{cluster_id}"
    failed = {"status": "failed", "message": "no capacity"}
    r = platform.client.post(f"{base}/actions/{actions[0]['id']}/result", json=failed, headers=agent)
    assert r.status_code == 200
    assert platform.client.get(f"{base}/actions", headers=agent).json()["items"] == []
    trail = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/actions", headers=acme).json()["items"]
    assert {a["kind"]: a["status"] for a in trail} == {
        "add-nodes": "failed",
        "cordon-node": "failed",
        "drain-node": "failed",
        "delete-node": "failed",
    }


def test_reported_spot_prices_price_the_cluster_until_they_are_old(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    spot = node_json("s1")
    spot["metadata"]["labels"]["eks.amazonaws.com/capacityType"] = "SPOT"
    _setup(platform, acme, cluster_id, [spot], {"enabled": False})
    cost = f"/v1/kubernetes/clusters/{cluster_id}/cost"
    estimate = platform.client.get(cost, headers=acme).json()["nodes"][0]["hourlyPrice"]
    agent = _agent_key(platform, acme, cluster_id)
    prices = f"/v1/controller/clusters/{cluster_id}/spot-prices"
    r = platform.client.post(prices, json={"prices": {"m5.large": 0.0123, "c5.large": 0.02}}, headers=agent)
    assert r.status_code == 200 and r.json()["types"] == 2
    assert platform.client.get(cost, headers=acme).json()["nodes"][0]["hourlyPrice"] == 0.0123
    savings = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/savings", headers=acme).json()
    assert savings["current"]["hourly_cost"] == 0.0123
    platform.clock.advance(7 * 3600)  # the controller stopped reporting: the catalog's estimate again
    assert platform.client.get(cost, headers=acme).json()["nodes"][0]["hourlyPrice"] == estimate != 0.0123
    bad = platform.client.post(prices, json={"prices": {"m5.large": -1}}, headers=agent)
    assert bad.status_code == 422 and "not a positive hourly price" in bad.text
