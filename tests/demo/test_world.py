"""`DemoWorld`: scheduler, workload controllers, kubelets and the eviction API's budget check."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubewise.catalog.loading import load_region
from kubewise.cloud.provider import NodeRequest
from kubewise.cloud.simulated import SimulatedCloud
from kubewise.demo.kube_api import KubeStore
from kubewise.demo.world import INTERRUPTION_TAINT, DemoWorld, LockedCloud

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
POOL = {"workload-type": "general"}


def _node(name: str, itype: str = "m5.xlarge", capacity: str = "ON_DEMAND") -> dict[str, Any]:
    labels = {
        "node.kubernetes.io/instance-type": itype,
        "topology.kubernetes.io/region": "us-east-1",
        "topology.kubernetes.io/zone": "us-east-1a",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
        "eks.amazonaws.com/capacityType": capacity,
        **POOL,
    }
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {"name": name, "labels": labels},
        "spec": {"providerID": f"aws:///us-east-1a/i-{name}"},
        "status": {"allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "58"}},
    }


def _pod(
    name: str, owner: tuple[str, str] | None, node: str = "", cpu: str = "500m", **extra: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "shop", "labels": {"app": "web"}}
    if owner:
        meta["ownerReferences"] = [
            {"kind": owner[0], "name": owner[1], "controller": True, "apiVersion": "apps/v1"}
        ]
    spec: dict[str, Any] = {
        "containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}],
        "nodeSelector": POOL,
        **extra,
    }
    if node:
        spec["nodeName"] = node
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec,
            "status": {"phase": "Running" if node else "Pending"}}  # fmt: skip


def _world(*objects: dict[str, Any]) -> tuple[DemoWorld, KubeStore, SimulatedCloud]:
    catalog = load_region("aws", "us-east-1")
    clock = [0.0]
    cloud = SimulatedCloud(catalog, lambda: clock[0])
    store = KubeStore("t")
    world = DemoWorld(store, LockedCloud(cloud), catalog, lambda: NOW)
    world.load([{"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "shop"}}, *objects])
    world.step()
    return world, store, cloud


def _pods(store: KubeStore) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p for p in store.all("Pod")}


def test_pending_pods_are_bound_where_the_scheduler_allows_and_marked_otherwise() -> None:
    world, store, _ = _world(
        _node("n1"),
        _pod("web-1", ("ReplicaSet", "web-5f"), cpu="1"),
        _pod("huge", ("ReplicaSet", "huge-7a"), cpu="64"),
    )
    pods = _pods(store)
    assert pods["web-1"]["spec"]["nodeName"] == "n1" and pods["web-1"]["status"]["phase"] == "Running"
    (condition,) = pods["huge"]["status"]["conditions"]
    assert condition["reason"] == "Unschedulable" and "nodeName" not in pods["huge"]["spec"]
    assert world.counts()["pendingPods"] == 1


def test_an_evicted_pod_is_made_again_by_its_controller_and_a_bare_one_is_lost() -> None:
    world, store, _ = _world(
        _node("n1"), _pod("web-1", ("ReplicaSet", "web-5f"), "n1"), _pod("bare", None, "n1")
    )
    assert world.evict("shop", "web-1") is None and world.evict("shop", "bare") is None
    world.step()
    pods = _pods(store)
    assert "web-1" not in pods and "bare" not in pods
    (again,) = [p for p in pods.values() if p["metadata"]["ownerReferences"][0]["name"] == "web-5f"]
    assert again["metadata"]["name"].startswith("web-5f-") and again["spec"]["nodeName"] == "n1"
    assert (world.evictions, world.lost_pods) == (2, 1)


def test_a_disruption_budget_refuses_the_eviction_that_would_break_it() -> None:
    pdb = {
        "kind": "PodDisruptionBudget",
        "apiVersion": "policy/v1",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
    }
    world, store, _ = _world(
        _node("n1"), pdb, *(_pod(f"web-{i}", ("ReplicaSet", "web-5f"), "n1") for i in range(3))
    )
    budget = store.get("PodDisruptionBudget", "shop", "web")
    assert budget is not None and budget["status"]["disruptionsAllowed"] == 1
    assert world.evict("shop", "web-0") is None
    refused = world.evict("shop", "web-1")
    assert refused is not None and "disruption budget" in refused
    world.step()  # the replacement runs: the budget allows one again
    assert world.evict("shop", "web-1") is None


def test_a_new_instance_joins_with_its_labels_taints_and_daemonset_pods_and_leaves_with_them() -> None:
    ds = _pod("agent-x", ("DaemonSet", "agent"), "n1", cpu="100m", tolerations=[{"operator": "Exists"}])
    world, store, cloud = _world(_node("n1"), ds, _pod("web-1", ("ReplicaSet", "web-5f"), cpu="3"))
    (made,) = cloud.create_nodes(
        NodeRequest(
            "t1",
            ("c5.xlarge",),
            "spot",
            "us-east-1a",
            1,
            (("workload-type", "general"),),
            (("dedicated", "web", "NoSchedule"),),
        )
    )
    world.step()
    (joined,) = [n for n in store.all("Node") if n["spec"]["providerID"].endswith(made.instance_id)]
    name = joined["metadata"]["name"]
    assert joined["metadata"]["labels"]["workload-type"] == "general"
    assert joined["metadata"]["labels"]["karpenter.sh/capacity-type"] == "spot"
    assert joined["spec"]["taints"] == [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}]
    assert joined["status"]["allocatable"]["pods"] and joined["status"]["nodeInfo"]["architecture"] == "amd64"
    on_it = [p for p in store.all("Pod") if p["spec"].get("nodeName") == name]
    assert [p["metadata"]["ownerReferences"][0]["kind"] for p in on_it] == [
        "DaemonSet"
    ]  # web does not tolerate it
    cloud.terminate([made.instance_id])
    world.step()
    assert store.get("Node", "", name) is None
    assert not [p for p in store.all("Pod") if p["spec"].get("nodeName") == name]


def test_a_spot_interruption_notice_taints_the_node() -> None:
    world, store, _ = _world(_node("s1", capacity="SPOT"), _node("n1"))
    assert world.interrupt_spot(1, grace_seconds=60) == ["s1"]
    world.step()
    node = store.get("Node", "", "s1")
    assert node is not None and [t["key"] for t in node["spec"]["taints"]] == [INTERRUPTION_TAINT]


def test_scaling_a_workload_adds_pending_pods_and_removes_pending_ones_first() -> None:
    world, store, _ = _world(_node("n1"), _pod("web-1", ("ReplicaSet", "web-5f"), "n1"))
    world.scale("shop", "web", 12)
    world.step()
    web = [p for p in store.all("Pod") if p["metadata"]["ownerReferences"][0]["name"] == "web-5f"]
    assert len(web) == 12
    world.scale("shop", "web", 1)
    world.step()
    assert [p["metadata"]["name"] for p in store.all("Pod")] == ["web-1"]  # the bound one stays
    with pytest.raises(ValueError, match="no workload shop/nope"):
        world.scale("shop", "nope", 3)
