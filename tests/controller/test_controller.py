"""The controller against the fake Kubernetes API, a real platform server and the simulated cloud."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_kube_api import NODES, PDBS, PODS, FakeApi, serve, write_kubeconfig
from kube_objects import node_json
from kubewise.agent.cluster_reader import connect_api
from kubewise.catalog.loading import load_region
from kubewise.cloud.metadata import CloudQueryError
from kubewise.cloud.simulated import SimulatedCloud
from kubewise.controller.executor import Executor
from kubewise.controller.kube import ControllerFatal, NodeOps
from kubewise.controller.loop import Controller
from kubewise.controller.platform import ControllerPlatform
from live_server import live_server

EKS = {"eks": {"accountId": "111122223333", "region": "us-east-1", "clusterName": "prod"}}


def _pod(name: str, cpu: str, node: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]
    }
    if node:
        spec["nodeName"] = node
    owner = {"kind": "ReplicaSet", "name": "web-rs", "controller": True, "apiVersion": "apps/v1", "uid": "u"}
    meta = {"name": name, "namespace": "default", "labels": {"app": "web"}, "ownerReferences": [owner]}
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": meta,
        "spec": spec,
        "status": {"phase": "Running" if node else "Pending"},
    }


class Setup:
    def __init__(self, fake: FakeApi, url: str, key: str, kubeconfig: str) -> None:
        self.fake, self.url, self.key, self.kubeconfig = fake, url, key, kubeconfig
        self.headers = {"X-API-Key": key}
        self.cluster_id = httpx.post(
            f"{url}/v1/kubernetes/external-clusters", json=EKS, headers=self.headers
        ).json()["id"]
        self.agent_key = httpx.post(
            f"{url}/v1/kubernetes/external-clusters/{self.cluster_id}/agent-key", headers=self.headers
        ).json()["apiKey"]
        self.now = [0.0]
        self.cloud = SimulatedCloud(load_region("aws", "us-east-1"), lambda: self.now[0])

    def snapshot(self, policies: dict[str, Any]) -> list[dict[str, Any]]:
        items = [copy.deepcopy(o) for path in (NODES, PODS, PDBS) for o in self.fake.objects[path]]
        body = {"sequence": 1, "items": items}
        assert (
            httpx.post(
                f"{self.url}/v1/agent/clusters/{self.cluster_id}/snapshot", json=body, headers=self.headers
            ).status_code
            == 200
        )
        httpx.put(
            f"{self.url}/v1/kubernetes/clusters/{self.cluster_id}/policies",
            json=policies,
            headers=self.headers,
        )
        run = httpx.post(
            f"{self.url}/v1/kubernetes/clusters/{self.cluster_id}/autoscaler/run", headers=self.headers
        )
        assert run.status_code == 200, run.text
        return list(run.json()["actions"])

    def controller(self, key: str | None = None) -> Controller:
        platform = ControllerPlatform(
            self.url, key or self.agent_key, self.cluster_id, attempts=2, max_wait=0.01
        )
        kube = NodeOps(connect_api(None, self.kubeconfig))
        return Controller(platform, Executor(kube, self.cloud, platform), poll_seconds=0.01)

    def actions(self) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/v1/kubernetes/clusters/{self.cluster_id}/actions", headers=self.headers)
        return list(r.json()["items"])


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    fake = FakeApi(
        {
            NODES: [node_json("n1"), node_json("n2")],
            PODS: [_pod("web-a", "300m", "n1"), _pod("web-b", "300m", "n2")],
        }
    )
    fake.operable = True
    with serve(fake) as kube_url, live_server(tmp_path) as (url, key):
        yield Setup(fake, url, key, str(write_kubeconfig(tmp_path / "kubeconfig", kube_url)))


EVICTOR = {"enabled": True, "evictor": {"enabled": True}}


def test_consolidation_cordons_drains_and_deletes_thenode_json(setup: Setup) -> None:
    planned = setup.snapshot(EVICTOR)
    assert [a["kind"] for a in planned] == ["cordon-node", "drain-node", "delete-node"]
    node = planned[0]["node"]
    done = setup.controller().run_once()
    assert done == 3
    assert node not in [n["metadata"]["name"] for n in setup.fake.objects[NODES]]
    assert all(p["spec"]["nodeName"] != node for p in setup.fake.objects[PODS])
    patches = [p for m, p, _ in setup.fake.requests if m == "PATCH"]
    assert patches == [f"/api/v1/nodes/{node}"] * 2  # cordon, and again before the drain: idempotent
    assert [a["status"] for a in setup.actions()] == ["done"] * 3
    assert setup.controller().run_once() == 0  # nothing left


def test_a_pdb_holds_the_drain_and_the_delete_until_it_allows(setup: Setup) -> None:
    pdb = {
        "kind": "PodDisruptionBudget",
        "apiVersion": "policy/v1",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
        "status": {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2},
    }
    setup.fake.objects[PDBS] = [pdb]
    planned = setup.snapshot(EVICTOR)
    assert [a["kind"] for a in planned] == ["cordon-node", "drain-node", "delete-node"]
    pdb["status"]["disruptionsAllowed"] = 0  # another disruption happened meanwhile
    controller = setup.controller()
    assert controller.run_once() == 1  # the cordon; the drain waits, and the delete behind it
    assert [a["status"] for a in setup.actions()].count("pending") == 2
    assert planned[0]["node"] in [n["metadata"]["name"] for n in setup.fake.objects[NODES]]
    pdb["status"]["disruptionsAllowed"] = 1
    assert controller.run_once() == 2
    assert [a["status"] for a in setup.actions()] == ["done"] * 3


def test_add_nodes_through_the_cloud_and_a_shortage_reported_back(setup: Setup) -> None:
    setup.fake.objects[PODS] = [
        _pod("big-a", "1800m", "n1"),
        _pod("big-b", "1800m", "n2"),
        _pod("new", "1500m", None),
    ]
    policies = {"enabled": True, "unschedulablePods": {"enabled": True}}
    (first,) = [a for a in setup.snapshot(policies) if a["kind"] == "add-nodes"]
    setup.cloud.shortages.add((first["instanceType"], "on-demand"))
    assert setup.controller().run_once() == 1
    (failed,) = [a for a in setup.actions() if a["id"] == first["id"]]
    assert failed["status"] == "failed" and setup.cloud.instances == {}
    again = httpx.post(
        f"{setup.url}/v1/kubernetes/clusters/{setup.cluster_id}/autoscaler/run", headers=setup.headers
    )
    (second,) = again.json()["actions"]
    assert second["instanceType"] != first["instanceType"]  # the shortage was reported and left out
    assert setup.controller().run_once() == 1
    (inst,) = setup.cloud.instances.values()
    assert inst.instance_type == second["instanceType"] and inst.capacity_type == "on-demand"
    assert setup.controller().run_once() == 0


def test_forbidden_and_revoked_stop_the_controller_with_one_line(setup: Setup) -> None:
    setup.snapshot(EVICTOR)
    setup.fake.forbidden_ops.add(("patch", "nodes"))
    with pytest.raises(ControllerFatal) as err:
        setup.controller().run_once()
    assert 'forbidden (403) to patch nodes -- give the controller\'s ClusterRole "patch" on "nodes"' in str(
        err.value
    )
    assert "\n" not in str(err.value)
    with pytest.raises(ControllerFatal, match=r"rejected the API key \(401\).*stops"):
        setup.controller(key="kw_0123456789abcdef_revoked").run_once()


def test_a_node_gone_before_its_actions_fails_them_at_once_and_holds_nothing_up(setup: Setup) -> None:
    planned = setup.snapshot(EVICTOR)
    node = planned[0]["node"]
    setup.fake.objects[NODES] = [n for n in setup.fake.objects[NODES] if n["metadata"]["name"] != node]
    assert setup.controller().run_once() == 3
    statuses = {a["kind"]: (a["status"], a.get("message", "")) for a in setup.actions()}
    assert statuses["cordon-node"][0] == "failed" and statuses["drain-node"][0] == "failed"
    assert statuses["delete-node"][0] == "done"


def test_new_nodes_get_the_templates_labels_and_taints_from_the_cloud(setup: Setup) -> None:
    taint = {"key": "dedicated", "value": "batch", "effect": "NoSchedule"}
    for n in setup.fake.objects[NODES]:
        n["metadata"]["labels"]["pool"] = "batch"
        n["spec"]["taints"] = [taint]
    tolerating = _pod("new", "1500m", None)
    tolerating["spec"]["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "batch"}]
    tolerating["spec"]["nodeSelector"] = {"pool": "batch"}
    setup.fake.objects[PODS] = [_pod("big-a", "1800m", "n1"), _pod("big-b", "1800m", "n2"), tolerating]
    (add,) = [a for a in setup.snapshot({"enabled": True, "unschedulablePods": {"enabled": True}})
              if a["kind"] == "add-nodes"]  # fmt: skip
    assert add["taints"] == [taint] and add["labels"]["pool"] == "batch"
    assert setup.controller().run_once() == 1
    (inst,) = setup.cloud.instances.values()
    assert ("pool", "batch") in inst.labels and inst.taints == (("dedicated", "batch", "NoSchedule"),)


def test_a_node_being_replaced_is_drained_once_its_replacement_joined(setup: Setup) -> None:
    platform = ControllerPlatform(setup.url, setup.agent_key, setup.cluster_id, attempts=2, max_wait=0.01)
    clock = [0.0]
    executor = Executor(
        NodeOps(connect_api(None, setup.kubeconfig)), setup.cloud, platform, clock=lambda: clock[0]
    )
    add = {"id": "a1", "kind": "add-nodes", "instanceType": "m5.large", "capacityType": "on-demand",
           "zone": "us-east-1a", "count": 1, "replaces": "n1"}  # fmt: skip
    assert executor.execute(add) is not None
    (inst,) = setup.cloud.instances.values()
    drain = {"id": "d1", "kind": "drain-node", "node": "n1"}
    assert executor.execute(drain) is None  # the new node has not joined: n1 keeps its pods
    assert any(p["spec"].get("nodeName") == "n1" for p in setup.fake.objects[PODS])
    joined = node_json("n3")
    joined["spec"]["providerID"] = inst.provider_id
    setup.fake.objects[NODES].append(joined)
    assert executor.execute(drain) == ("done", "n1 drained")
    assert not any(p["spec"].get("nodeName") == "n1" for p in setup.fake.objects[PODS])


def test_a_replacement_that_never_joins_leaves_the_node_uncordoned(setup: Setup) -> None:
    platform = ControllerPlatform(setup.url, setup.agent_key, setup.cluster_id, attempts=2, max_wait=0.01)
    clock = [0.0]
    kube = NodeOps(connect_api(None, setup.kubeconfig))
    executor = Executor(kube, setup.cloud, platform, clock=lambda: clock[0], replacement_wait=600)
    add = {"id": "a1", "kind": "add-nodes", "instanceType": "m5.large", "capacityType": "on-demand",
           "zone": "us-east-1a", "count": 1, "replaces": "n2"}  # fmt: skip
    executor.execute(add)
    kube.cordon("n2")
    clock[0] = 601.0
    status, message = executor.execute({"id": "d1", "kind": "drain-node", "node": "n2"}) or ("", "")
    assert status == "failed" and "did not join within 600s" in message
    (n2,) = [n for n in setup.fake.objects[NODES] if n["metadata"]["name"] == "n2"]
    assert not n2["spec"].get("unschedulable")
    later = executor.execute({"id": "x1", "kind": "delete-node", "node": "n2"})
    assert later is not None and later[0] == "failed" and n2 in setup.fake.objects[NODES]


def test_spot_prices_are_reported_when_due_and_a_cloud_that_will_not_tell_is_not_fatal(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    platform = ControllerPlatform(setup.url, setup.agent_key, setup.cluster_id, attempts=2, max_wait=0.01)
    executor = Executor(NodeOps(connect_api(None, setup.kubeconfig)), setup.cloud, platform)
    setup.cloud.spot_price_factor = 0.5  # the market moved since the catalog was made
    clock = [0.0]
    controller = Controller(
        platform,
        executor,
        spot_prices=lambda: setup.cloud.spot_prices(["us-east-1a"]),
        spot_price_seconds=3600,
        clock=lambda: clock[0],
    )
    reported = controller.report_spot_prices()
    assert reported > 100 and controller.report_spot_prices() == 0  # not due again for an hour
    setup.snapshot({"enabled": False})
    cost = httpx.get(
        f"{setup.url}/v1/kubernetes/clusters/{setup.cluster_id}/savings", headers=setup.headers
    ).json()
    (spot,) = [p for p in cost["plans"] if p["name"] == "spot"]
    catalog = load_region("aws", "us-east-1")
    for n in spot["nodes"]:
        itype = catalog.get(n["instance_type"])
        assert itype is not None and itype.spot_price is not None
        assert abs(n["hourly_price"] - itype.spot_price * 0.5) < 1e-5

    def refuse() -> dict[str, float]:
        raise CloudQueryError("UnauthorizedOperation", "not authorized to describe spot prices")

    clock[0] = 3601
    controller.read_spot_prices = refuse
    with caplog.at_level("WARNING", logger="kubewise.controller"):
        assert controller.report_spot_prices() == 0
    assert "spot prices not read" in caplog.text
