"""The controller's rightsize-workload actions on the fake Kubernetes API: in place, template, PDB, 403."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_kube_api import NODES, PDBS, PODS, FakeApi, serve, write_kubeconfig
from kube_objects import node_json
from kubewise.agent.cluster_reader import connect_api
from kubewise.catalog.loading import load_region
from kubewise.cloud.simulated import SimulatedCloud
from kubewise.controller.executor import Executor
from kubewise.controller.kube import NodeOps
from kubewise.controller.loop import Controller
from kubewise.controller.platform import ControllerPlatform
from kubewise.controller.rightsize import Rightsizer, label_selector

DEPLOYMENTS = "/apis/apps/v1/deployments"
STATEFULSETS = "/apis/apps/v1/statefulsets"
DAEMONSETS = "/apis/apps/v1/daemonsets"
PATHS = {"Deployment": DEPLOYMENTS, "StatefulSet": STATEFULSETS, "DaemonSet": DAEMONSETS}
RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}


def _containers(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": "app", "image": "shop/web:1", "resources": copy.deepcopy(resources)},
        {"name": "proxy", "image": "envoy:1", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
    ]


def _workload(
    kind: str, name: str = "web", resources: dict[str, Any] = RESOURCES, **spec: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": _containers(resources)},
            },
            **spec,
        },
    }


def _pod(
    name: str, app: str = "web", resources: dict[str, Any] = RESOURCES, phase: str = "Running"
) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": app}},
        "spec": {"nodeName": "n1", "containers": _containers(resources)},
        "status": {"phase": phase},
    }


def _pdb(name: str, app: str, allowed: int) -> dict[str, Any]:
    return {
        "kind": "PodDisruptionBudget",
        "apiVersion": "policy/v1",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": app}}},
        "status": {
            "disruptionsAllowed": allowed,
            "currentHealthy": 2,
            "desiredHealthy": 1,
            "expectedPods": 2,
        },
    }


DETAILS = {
    "kind": "Deployment",
    "namespace": "shop",
    "name": "web",
    "containers": {"app": {"cpu": 250.4, "memory": 536870912, "memoryLimit": 1073741824}},
}


class World:
    def __init__(self, fake: FakeApi, kubeconfig: str) -> None:
        self.fake = fake
        self.api = connect_api(None, kubeconfig)

    def rightsizer(self) -> Rightsizer:
        return Rightsizer(self.api)

    def pod(self, name: str) -> dict[str, Any]:
        return next(p for p in self.fake.objects[PODS] if p["metadata"]["name"] == name)

    def template(self, kind: str = "Deployment") -> list[dict[str, Any]]:
        (obj,) = self.fake.objects[PATHS[kind]]
        return list(obj["spec"]["template"]["spec"]["containers"])

    def patches(self) -> list[str]:
        return [p for m, p, _ in self.fake.requests if m == "PATCH"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    fake = FakeApi(
        {
            DEPLOYMENTS: [_workload("Deployment")],
            PODS: [
                _pod("web-1"),
                _pod("web-2"),
                _pod("web-old", phase="Succeeded"),
                _pod("other", app="other"),
            ],
        }
    )
    fake.operable = True
    with serve(fake) as url:
        yield World(fake, str(write_kubeconfig(tmp_path / "kubeconfig", url)))


def _app(containers: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(next(c for c in containers if c["name"] == "app")["resources"])


NEW = {"requests": {"cpu": "250m", "memory": "536870912"}, "limits": {"memory": "1073741824"}}  # no cpu limit


def test_in_place_resizes_the_running_pods_and_leaves_the_rolling_template(world: World) -> None:
    status, message = world.rightsizer().execute(DETAILS) or ("", "")
    assert status == "done", message
    assert world.patches() == [
        "/api/v1/namespaces/shop/pods/web-1/resize",
        "/api/v1/namespaces/shop/pods/web-2/resize",
    ]
    for name in ("web-1", "web-2"):
        containers = world.pod(name)["spec"]["containers"]
        assert _app(containers) == NEW
        assert containers[1]["resources"] == {
            "requests": {"cpu": "100m", "memory": "128Mi"}
        }  # not named: untouched
    assert _app(world.pod("other")["spec"]["containers"]) == RESOURCES
    assert _app(world.pod("web-old")["spec"]["containers"]) == RESOURCES  # finished: nothing to resize
    assert _app(world.template()) == RESOURCES  # a template change would restart every pod
    assert "2 pod(s) resized in place" in message and "app: cpu 250m, memory 536870912" in message
    assert "pod template left as is" in message
    again = world.rightsizer().execute(DETAILS)  # idempotent: nothing left to change
    assert again is not None and again[0] == "done" and "2 already at it" in again[1]
    assert len(world.patches()) == 2


def test_before_1_33_the_template_is_patched_and_the_workloads_controller_rolls(world: World) -> None:
    world.fake.git_version = "v1.32.4-eks-1234"
    status, message = world.rightsizer().execute(DETAILS) or ("", "")
    assert status == "done", message
    assert world.patches() == ["/apis/apps/v1/namespaces/shop/deployments/web"]
    assert _app(world.template()) == NEW
    assert world.template()[1]["image"] == "envoy:1"  # strategic merge: the other container kept whole
    assert _app(world.pod("web-1")["spec"]["containers"]) == RESOURCES
    assert "its controller rolls the pods" in message


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
def test_statefulsets_and_daemonsets_by_template(world: World, kind: str) -> None:
    world.fake.git_version = "v1.30.0"
    world.fake.objects[DEPLOYMENTS] = []
    world.fake.objects[PATHS[kind]] = [_workload(kind)]
    outcome = world.rightsizer().execute({**DETAILS, "kind": kind})
    assert outcome is not None and outcome[0] == "done"
    plural = PATHS[kind].rsplit("/", 1)[1]
    assert world.patches() == [f"/apis/apps/v1/namespaces/shop/{plural}/web"]
    assert _app(world.template(kind)) == NEW


def test_an_on_delete_statefulset_gets_both_the_resize_and_the_template(world: World) -> None:
    world.fake.objects[DEPLOYMENTS] = []
    world.fake.objects[STATEFULSETS] = [_workload("StatefulSet", updateStrategy={"type": "OnDelete"})]
    outcome = world.rightsizer().execute({**DETAILS, "kind": "StatefulSet"})
    assert outcome is not None and outcome[0] == "done" and "pod template updated (OnDelete)" in outcome[1]
    assert _app(world.pod("web-1")["spec"]["containers"]) == NEW
    assert _app(world.template("StatefulSet")) == NEW


def test_a_resize_that_would_change_the_qos_class_falls_back_to_the_template(world: World) -> None:
    best_effort: dict[str, Any] = {}
    world.fake.objects[DEPLOYMENTS] = [_workload("Deployment", resources=best_effort)]
    world.fake.objects[PODS] = [_pod("web-1", resources=best_effort)]
    world.fake.objects[PODS][0]["spec"]["containers"][1]["resources"] = {}  # BestEffort pod
    outcome = world.rightsizer().execute(DETAILS)
    assert outcome is not None and outcome[0] == "done" and "its controller rolls the pods" in outcome[1]
    assert world.patches() == [
        "/api/v1/namespaces/shop/pods/web-1/resize",
        "/apis/apps/v1/namespaces/shop/deployments/web",
    ]
    assert _app(world.pod("web-1")["spec"]["containers"]) == {}  # refused: unchanged
    assert _app(world.template()) == NEW


def test_an_api_server_without_the_resize_subresource_gets_the_template(world: World) -> None:
    world.fake.resize_served = False
    rightsizer = world.rightsizer()
    outcome = rightsizer.execute(DETAILS)
    assert outcome is not None and outcome[0] == "done"
    assert _app(world.template()) == NEW and rightsizer.in_place is False
    assert _app(world.pod("web-1")["spec"]["containers"]) == RESOURCES


def test_a_pdb_allowing_no_disruption_leaves_the_action_pending(world: World) -> None:
    world.fake.objects[PDBS] = [_pdb("web", "web", allowed=0), _pdb("other", "other", allowed=0)]
    rightsizer = world.rightsizer()
    assert rightsizer.execute(DETAILS) is None
    assert world.patches() == []
    assert rightsizer.waiting == {
        "Deployment shop/web": "PodDisruptionBudget shop/web allows no disruption now"
    }
    world.fake.objects[PDBS][0]["status"]["disruptionsAllowed"] = 1  # "other" still allows none: not ours
    outcome = rightsizer.execute(DETAILS)
    assert outcome is not None and outcome[0] == "done"
    assert _app(world.pod("web-1")["spec"]["containers"]) == NEW
    assert rightsizer.waiting == {}


@pytest.mark.parametrize(
    ("version", "forbidden", "resource"),
    [
        ("v1.33.0", ("patch", "pods/resize"), "pods/resize"),
        ("v1.31.0", ("patch", "deployments"), "deployments"),
    ],
)
def test_forbidden_fails_the_action_naming_the_missing_permission(
    world: World, version: str, forbidden: tuple[str, str], resource: str
) -> None:
    world.fake.git_version = version
    world.fake.forbidden_ops.add(forbidden)
    status, message = world.rightsizer().execute(DETAILS) or ("", "")
    assert status == "failed"
    assert f'"patch" on "{resource}"' in message and f"kubectl auth can-i patch {resource}" in message


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        (None, "details missing"),
        ({**DETAILS, "kind": "CronJob"}, "CronJob is not a kind the controller can resize"),
        ({**DETAILS, "containers": {}}, "at least one container"),
        (
            {**DETAILS, "containers": {"app": {"cpu": -1, "memory": 1}}},
            "containers.app.cpu must be a positive",
        ),
        ({**DETAILS, "containers": {"app": {"cpu": 1}}}, "containers.app.memory must be a positive"),
    ],
)
def test_bad_details_fail_with_what_is_wrong(world: World, details: Any, expected: str) -> None:
    status, message = world.rightsizer().execute(details) or ("", "")
    assert status == "failed" and expected in message
    assert world.patches() == []


def test_a_workload_or_containers_gone_since_the_recommendation(world: World) -> None:
    status, message = world.rightsizer().execute({**DETAILS, "name": "gone"}) or ("", "")
    assert status == "failed" and "Deployment shop/gone is not in the cluster" in message
    status, message = world.rightsizer().execute(
        {**DETAILS, "containers": {"old": {"cpu": 1, "memory": 1}}}
    ) or (
        "",
        "",
    )
    assert status == "failed" and "has none of the containers old" in message


def test_limits_are_set_as_recommended_and_removed_where_it_has_none(world: World) -> None:
    world.fake.git_version = "v1.30.0"
    world.template()[1]["resources"]["limits"] = {"cpu": "1"}
    containers = {
        "app": {"cpu": 300, "memory": 1073741824, "cpuLimit": 600, "memoryLimit": None},
        "proxy": {"cpu": 50, "memory": 64e6},
    }
    outcome = world.rightsizer().execute({**DETAILS, "containers": containers})
    assert outcome is not None and outcome[0] == "done"
    app, proxy = world.template()
    assert app["resources"] == {
        "requests": {"cpu": "300m", "memory": "1073741824"},
        "limits": {"cpu": "600m"},  # the 2Gi memory limit is gone
    }
    assert proxy["resources"]["requests"] == {"cpu": "50m", "memory": "64000000"}
    assert not proxy["resources"].get("limits")  # its cpu limit too


class Platform(httpx.BaseTransport):
    """The platform's controller API: `pending` actions served, results recorded (and no longer pending)."""

    def __init__(self, pending: list[dict[str, Any]]) -> None:
        self.pending = pending
        self.results: list[tuple[str, dict[str, Any]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/actions"):
            return httpx.Response(200, json={"items": self.pending})
        action_id = request.url.path.split("/")[-2]
        self.results.append((action_id, json.loads(request.read())))
        self.pending = [a for a in self.pending if a["id"] != action_id]
        return httpx.Response(200, json={})


def test_the_controller_leaves_a_blocked_rightsize_pending_and_reports_it_once_done(world: World) -> None:
    world.fake.objects[NODES] = [node_json("n1")]
    world.fake.objects[PDBS] = [_pdb("web", "web", allowed=0)]
    transport = Platform(
        [
            {"id": "a-1", "kind": "rightsize-workload", "details": DETAILS},
            {"id": "a-2", "kind": "cordon-node", "node": "n1"},
        ]
    )
    platform = ControllerPlatform(
        "http://platform.test", "kw_0123456789abcdef_key", "c-1", transport=transport
    )
    cloud = SimulatedCloud(load_region("aws", "us-east-1"), lambda: 0.0)
    controller = Controller(platform, Executor(NodeOps(world.api), cloud, platform))
    assert controller.run_once() == 1  # the cordon; the rightsize waits for the budget
    assert transport.results == [("a-2", {"status": "done", "message": "n1 cordoned"})]
    world.fake.objects[PDBS][0]["status"]["disruptionsAllowed"] = 1
    assert controller.run_once() == 1
    action_id, result = transport.results[-1]
    assert action_id == "a-1" and result["status"] == "done" and "resized in place" in result["message"]
    assert _app(world.pod("web-2")["spec"]["containers"]) == NEW


def test_label_selectors_as_query_strings() -> None:
    selector = {
        "matchLabels": {"app": "web", "tier": "front"},
        "matchExpressions": [
            {"key": "track", "operator": "In", "values": ["stable", "canary"]},
            {"key": "env", "operator": "NotIn", "values": ["dev"]},
            {"key": "owner", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    assert (
        label_selector(selector)
        == "app=web,tier=front,track in (stable,canary),env notin (dev),owner,!legacy"
    )
