"""Workloads in the agent's raw objects: a pod's workload through its stored owners, a template's
requests as the API server defaults them, replicas, and the opt-in annotations' precedence."""

from __future__ import annotations

from typing import Any

from kubewise.server.services.workload_objects import (
    container_resources,
    opt_in,
    pod_workload,
    replicas,
    template_spec,
    workload_keys,
)
from rightsizing_objects import OPT_IN, deployment, namespace, pod, replicaset

MODE = "rightsizing.kubewise.dev/mode"


def _job(name: str, cron: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "shop"}
    if cron:
        meta["ownerReferences"] = [{"kind": "CronJob", "name": cron, "controller": True}]
    return {"kind": "Job", "metadata": meta}


def test_pods_resolve_through_their_stored_owners() -> None:
    replicasets = {("shop", "web-1"): replicaset("web-1", "web"), ("shop", "solo"): replicaset("solo", "x")}
    replicasets[("shop", "solo")]["metadata"].pop("ownerReferences")
    jobs = {("shop", "nightly-1"): _job("nightly-1", "nightly"), ("shop", "once"): _job("once", None)}
    cases = {
        ("ReplicaSet", "web-1"): ("shop", "Deployment", "web"),
        ("ReplicaSet", "solo"): ("shop", "ReplicaSet", "solo"),  # a ReplicaSet no Deployment owns
        ("ReplicaSet", "unknown"): None,  # not stored (yet): cannot be told
        ("Job", "nightly-1"): ("shop", "CronJob", "nightly"),
        ("Job", "once"): ("shop", "Job", "once"),
        ("StatefulSet", "db"): ("shop", "StatefulSet", "db"),
        ("Node", "n1"): None,  # a static pod
        ("Rollout", "r"): None,  # a controller the platform does not model
    }
    for owner, expected in cases.items():
        assert pod_workload(pod("p", owner), replicasets, jobs) == expected, owner
    assert pod_workload(pod("p", None), replicasets, jobs) is None  # bare
    listed = workload_keys([deployment("web"), *replicasets.values(), *jobs.values(), namespace("shop")])
    assert sorted(listed) == [
        ("shop", "Deployment", "web"),
        ("shop", "Job", "once"),
        ("shop", "ReplicaSet", "solo"),
    ]


def test_template_requests_default_to_limits_and_bad_quantities_read_as_unset() -> None:
    web = deployment("web")
    web["spec"]["template"]["spec"]["containers"] = [
        {"name": "a", "resources": {"limits": {"cpu": "2", "memory": "1Gi"}}},
        {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "lots"}, "limits": {"cpu": "1"}}},
        {"name": "c"},
    ]
    assert container_resources(template_spec(web)) == {
        "a": {"cpu": 2000.0, "memory": 2.0**30, "cpuLimit": 2000.0, "memoryLimit": 2.0**30},
        "b": {"cpu": 250.0, "memory": None, "cpuLimit": 1000.0, "memoryLimit": None},
        "c": {"cpu": None, "memory": None, "cpuLimit": None, "memoryLimit": None},
    }
    cron = {
        "kind": "CronJob",
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "x"}]}}}}},
    }
    assert list(container_resources(template_spec(cron))) == ["x"]
    daemons = {"kind": "DaemonSet", "spec": {}, "status": {"desiredNumberScheduled": 7}}
    assert (replicas(deployment("web", replicas=3)), replicas(daemons), replicas({"kind": "Deployment"})) == (
        3,
        7,
        1,
    )


def test_the_workloads_annotation_wins_over_its_namespaces() -> None:
    on = namespace("shop", {OPT_IN: "true", MODE: "apply"})
    assert opt_in(deployment("web"), on).opted_in and opt_in(deployment("web"), on).mode == "apply"
    out = opt_in(deployment("web", annotations={OPT_IN: "false"}), on)
    assert not out.opted_in and out.reason is not None and out.reason.startswith("opted out")
    own = opt_in(deployment("web", annotations={OPT_IN: "True", MODE: "recommend"}), namespace("shop"))
    assert own.opted_in and own.mode == "recommend" and own.reason is None
    off = opt_in(deployment("db", kind="StatefulSet"), None)
    assert not off.opted_in and off.mode == "recommend"
    assert off.reason == (
        "not opted in: annotate the StatefulSet or its namespace with"
        ' rightsizing.kubewise.dev/enabled: "true"'
    )
    odd = opt_in(deployment("web", annotations={OPT_IN: "true", MODE: "yolo"}), None)
    assert odd.mode == "recommend"  # an unknown mode never applies
