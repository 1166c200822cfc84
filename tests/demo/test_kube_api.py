"""The emulated Kubernetes API, through the official client: lists, watches, node writes, evictions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from kubewise.agent.cluster_reader import connect_api
from kubewise.controller.kube import EvictionBlocked, NodeGone, NodeOps
from kubewise.demo.kube_api import KubeApiServer, KubeStore


def _pod(name: str, node: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "x"}]}
    if node:
        spec["nodeName"] = node
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": "shop"}, "spec": spec}


def _node(name: str) -> dict[str, Any]:
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {"name": name},
        "spec": {"providerID": f"aws:///z/i-{name}"},
    }


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[KubeStore, client.ApiClient]]:
    store = KubeStore("token-1", history=50)
    server = KubeApiServer(store).start()
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(server.kubeconfig()))
    try:
        yield store, connect_api(None, str(config))
    finally:
        server.stop()


def test_pages_come_from_one_consistent_listing(served: tuple[KubeStore, client.ApiClient]) -> None:
    store, api = served
    for i in range(5):
        store.put(_pod(f"p{i}"))
    core = client.CoreV1Api(api)
    first = core.list_pod_for_all_namespaces(limit=2)
    store.delete("Pod", "shop", "p3")  # changes after the first page do not show in the later ones
    store.put(_pod("p9"))
    names = [p.metadata.name for p in first.items]
    token = first.metadata._continue
    while token:
        page = core.list_pod_for_all_namespaces(limit=2, _continue=token)
        assert page.metadata.resource_version == first.metadata.resource_version
        names += [p.metadata.name for p in page.items]
        token = page.metadata._continue
    assert names == ["p0", "p1", "p2", "p3", "p4"]
    with pytest.raises(ApiException) as gone:
        core.list_pod_for_all_namespaces(limit=2, _continue="999:1")
    assert gone.value.status == 410


def test_field_selector_lists_the_pods_of_one_node(served: tuple[KubeStore, client.ApiClient]) -> None:
    store, api = served
    store.put(_pod("a", "n1"))
    store.put(_pod("b", "n2"))
    listed = client.CoreV1Api(api).list_pod_for_all_namespaces(field_selector="spec.nodeName=n1", limit=500)
    assert [p.metadata.name for p in listed.items] == ["a"]


def test_a_watch_streams_each_change_as_it_happens(served: tuple[KubeStore, client.ApiClient]) -> None:
    store, api = served
    store.put(_node("n1"))
    version = client.CoreV1Api(api).list_node().metadata.resource_version
    stream = watch.Watch(return_type="object")
    events = stream.stream(client.CoreV1Api(api).list_node, resource_version=version, timeout_seconds=10)
    began = time.monotonic()
    store.put(_node("n2"))
    first = next(events)
    # delivered while the stream is open (chunked), not when the server ends it
    assert first["type"] == "ADDED" and first["raw_object"]["metadata"]["name"] == "n2"
    assert time.monotonic() - began < 5
    store.delete("Node", "", "n1")
    second = next(events)
    assert second["type"] == "DELETED" and second["raw_object"]["metadata"]["name"] == "n1"
    stream.stop()


def test_a_watch_from_before_the_kept_history_is_gone(served: tuple[KubeStore, client.ApiClient]) -> None:
    store, api = served
    for i in range(60):  # history=50: the oldest versions are no longer kept
        store.put(_pod(f"p{i}"))
    with pytest.raises(ApiException) as gone:
        for _ in watch.Watch().stream(
            client.CoreV1Api(api).list_pod_for_all_namespaces, resource_version="2", timeout_seconds=5
        ):
            pass
    assert gone.value.status == 410


def test_nodes_are_cordoned_read_and_deleted(served: tuple[KubeStore, client.ApiClient]) -> None:
    store, api = served
    store.put(_node("n1"))
    ops = NodeOps(api)
    ops.cordon("n1")
    node = store.get("Node", "", "n1")
    assert node is not None and node["spec"]["unschedulable"] is True
    assert ops.provider_id("n1") == "aws:///z/i-n1"
    ops.delete_node("n1")
    assert store.get("Node", "", "n1") is None
    ops.delete_node("n1")  # already gone: fine
    with pytest.raises(NodeGone):
        ops.cordon("n1")


def test_evictions_ask_the_hook_which_can_refuse(served: tuple[KubeStore, client.ApiClient]) -> None:
    store, api = served
    store.put(_pod("a", "n1"))
    store.put(_pod("b", "n1"))
    refused = {"a"}

    def hook(namespace: str, name: str) -> str | None:
        if name in refused:
            return "Cannot evict pod as it would violate the pod's disruption budget."
        store.delete("Pod", namespace, name)
        return None

    store.on_evict = hook
    ops = NodeOps(api)
    with pytest.raises(EvictionBlocked):
        ops.evict("shop", "a")
    ops.evict("shop", "b")
    assert store.get("Pod", "shop", "a") is not None and store.get("Pod", "shop", "b") is None
    ops.evict("shop", "b")  # gone already: what an eviction wants


def test_requests_without_the_token_are_unauthorized(served: tuple[KubeStore, client.ApiClient]) -> None:
    store, api = served
    store.token = "rotated"  # the client still sends token-1
    with pytest.raises(ApiException) as denied:
        client.CoreV1Api(api).list_node()
    assert denied.value.status == 401
