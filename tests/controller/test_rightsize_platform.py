"""Rightsizing end to end on loopback: the agent's usage collector feeds a real platform a day of
metrics from the fake Kubernetes API, the platform recommends and queues an apply, and the controller
resizes the workload's pods in place through the same fake API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_kube_api import METRICS, NAMESPACES, NODES, PODS, FakeApi, serve, write_kubeconfig
from kube_objects import node_json
from kubewise.agent.cluster_reader import connect_api, read_cluster
from kubewise.agent.platform_client import PlatformClient
from kubewise.agent.runner import Agent
from kubewise.agent.settings import AgentSettings
from kubewise.agent.usage import UsageCollector
from kubewise.catalog.loading import load_region
from kubewise.cloud.simulated import SimulatedCloud
from kubewise.controller.executor import Executor
from kubewise.controller.kube import NodeOps
from kubewise.controller.loop import Controller
from kubewise.controller.platform import ControllerPlatform
from live_server import live_server

LABELS = {"app": "web"}
REQUESTS = {"cpu": "1500m", "memory": "2Gi"}


def _owned(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"kind": kind, "name": name, "controller": True, "apiVersion": "apps/v1", "uid": f"u-{name}"}]


def _cluster() -> dict[str, list[dict[str, Any]]]:
    container = {"name": "app", "image": "shop/web:1", "resources": {"requests": dict(REQUESTS)}}
    deployment = {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "annotations": {"rightsizing.kubewise.dev/enabled": "true"},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": LABELS},
            "template": {"metadata": {"labels": LABELS}, "spec": {"containers": [container]}},
        },
    }
    replicaset = {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": {"name": "web-5d8", "namespace": "shop", "ownerReferences": _owned("Deployment", "web")},
        "spec": {"replicas": 2, "selector": {"matchLabels": LABELS}},
    }
    pods = [
        {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {
                "name": f"web-5d8-{i}",
                "namespace": "shop",
                "labels": LABELS,
                "ownerReferences": _owned("ReplicaSet", "web-5d8"),
            },
            "spec": {
                "nodeName": f"n{i}",
                "containers": [dict(container, resources={"requests": dict(REQUESTS)})],
            },
            "status": {"phase": "Running"},
        }
        for i in range(2)
    ]
    metrics = [
        {
            "metadata": {"name": f"web-5d8-{i}", "namespace": "shop"},
            "containers": [{"name": "app", "usage": {"cpu": f"{60 + i}m", "memory": "200Mi"}}],
        }
        for i in range(2)
    ]
    return {
        NODES: [node_json("n0"), node_json("n1")],
        NAMESPACES: [{"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "shop"}}],
        "/apis/apps/v1/deployments": [deployment],
        "/apis/apps/v1/replicasets": [replicaset],
        PODS: pods,
        METRICS: metrics,
    }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[FakeApi, str, str, str]]:
    fake = FakeApi(_cluster())
    fake.operable = True
    with serve(fake) as kube_url, live_server(tmp_path) as (url, key):
        yield fake, str(write_kubeconfig(tmp_path / "kubeconfig", kube_url)), url, key


def test_a_day_of_usage_becomes_an_in_place_resize(world: tuple[FakeApi, str, str, str]) -> None:
    fake, kubeconfig, url, key = world
    platform = PlatformClient(url, key)
    agent = Agent(
        AgentSettings(
            api_url=url,
            api_key=key,
            eks_account_id="111122223333",
            eks_region="us-east-1",
            eks_cluster_name="prod",
        ),
        platform,
        lambda: read_cluster(None, kubeconfig, workloads=True),
        None,
    )
    cluster_id = agent.connect()
    agent.snapshot()
    headers = {"X-API-Key": key}
    policies = httpx.put(
        f"{url}/v1/kubernetes/clusters/{cluster_id}/policies",
        json={"rightsizing": {"enabled": True}},
        headers=headers,
    )
    assert policies.status_code == 200, policies.text
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=26)
    times = iter(start + dt.timedelta(hours=h) for h in range(27))
    collector = UsageCollector(connect_api(None, kubeconfig), platform, wall_clock=lambda: next(times))
    for _ in range(27):  # an hourly sample for 26 hours
        assert collector.collect(cluster_id) == 2
    agent.usage = collector
    agent.heartbeat()  # the metrics API's condition rides on it
    cluster = httpx.get(f"{url}/v1/kubernetes/external-clusters/{cluster_id}", headers=headers).json()
    assert {"type": "MetricsAvailable", "status": "True"}.items() <= cluster["conditions"][0].items()
    base = f"{url}/v1/kubernetes/clusters/{cluster_id}/workloads/shop/Deployment/web"
    shown = httpx.get(base, headers=headers).json()
    assert shown["reason"] is None and shown["dataHours"] >= 24, shown
    recommended = shown["containers"][0]["recommended"]
    assert 60 <= recommended["cpu"] < 1500 and 200 * 2**20 <= recommended["memory"] < 2 * 2**30
    applied = httpx.post(f"{base}/apply", headers=headers)
    assert applied.status_code == 202, applied.text

    agent_key = httpx.post(f"{url}/v1/kubernetes/external-clusters/{cluster_id}/agent-key", headers=headers)
    controller_platform = ControllerPlatform(
        url, agent_key.json()["apiKey"], cluster_id, attempts=2, max_wait=0.01
    )
    cloud = SimulatedCloud(load_region("aws", "us-east-1"), lambda: 0.0)
    controller = Controller(
        controller_platform, Executor(NodeOps(connect_api(None, kubeconfig)), cloud, controller_platform)
    )
    assert controller.run_once() == 1
    for pod in fake.objects[PODS]:
        requests = pod["spec"]["containers"][0]["resources"]["requests"]
        assert requests == {
            "cpu": f"{round(recommended['cpu'])}m",
            "memory": str(round(recommended["memory"])),
        }
    actions = httpx.get(f"{url}/v1/kubernetes/clusters/{cluster_id}/actions", headers=headers).json()["items"]
    (done,) = [a for a in actions if a["id"] == applied.json()["actionId"]]
    assert done["status"] == "done", done
    assert [p for m, p, _ in fake.requests if m == "PATCH"] == [
        "/api/v1/namespaces/shop/pods/web-5d8-0/resize",
        "/api/v1/namespaces/shop/pods/web-5d8-1/resize",
    ]
