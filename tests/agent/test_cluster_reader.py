"""read_cluster against a local fake Kubernetes API server (`tests/fake_kube_api.py`, no internet)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_kube_api import NAMESPACES, NODES, PDBS, PODS, FakeApi, serve, status, write_kubeconfig
from kubewise.agent import cluster_reader
from kubewise.agent.cluster_reader import ClusterReadError, read_cluster
from kubewise.model import OwnerKind, Resources, load_snapshot_from_objects


def pod(name: str, cpu: str = "100m") -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": {"app": "web", "pod-template-hash": "abc12"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web-abc12",
                    "uid": "u",
                    "controller": True,
                }
            ],
            "creationTimestamp": "2024-05-01T10:00:00Z",
        },
        "spec": {
            "nodeName": "n1",
            "containers": [
                {"name": "web", "image": "web:1", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}
            ],
            "initContainers": [
                {
                    "name": "proxy",
                    "image": "p:1",
                    "restartPolicy": "Always",
                    "resources": {"requests": {"cpu": "50m"}},
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
        "status": {"phase": "Running"},
    }


def default_objects() -> dict[str, list[dict[str, Any]]]:
    return {
        NODES: [
            {
                "metadata": {"name": "n1", "labels": {"karpenter.sh/capacity-type": "spot"}},
                "spec": {"providerID": "aws:///us-east-1a/i-0abc"},
                "status": {
                    "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                    "allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "110"},
                },
            }
        ],
        PODS: [pod(f"web-abc12-{i}") for i in range(5)],
        PDBS: [
            {
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
                "status": {
                    "disruptionsAllowed": 3,
                    "currentHealthy": 5,
                    "desiredHealthy": 2,
                    "expectedPods": 5,
                },
            }
        ],
        NAMESPACES: [{"metadata": {"name": "shop", "labels": {"team": "a"}}}],
    }


@pytest.fixture
def api() -> Iterator[tuple[FakeApi, str]]:
    fake = FakeApi(default_objects())
    with serve(fake) as url:
        yield fake, url


@pytest.fixture
def kubeconfig(api: tuple[FakeApi, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    _, url = api
    path = write_kubeconfig(tmp_path / "kubeconfig", url)
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return str(path)


def test_reads_everything_and_the_loader_parses_it(api: tuple[FakeApi, str], kubeconfig: str) -> None:
    objects = read_cluster("fake", kubeconfig)
    assert [o["kind"] for o in objects] == ["Node"] + ["Pod"] * 5 + ["PodDisruptionBudget", "Namespace"]
    assert objects[-2]["apiVersion"] == "policy/v1"
    snap = load_snapshot_from_objects(objects)
    assert snap.nodes[0].allocatable == Resources({"cpu": 3920, "memory": 15 * 1024**3, "pods": 110})
    assert (snap.nodes[0].capacity_type, snap.nodes[0].zone) == ("spot", "us-east-1a")
    web = snap.pods[0]
    assert web.requests == Resources({"cpu": 150, "memory": 1024**3, "pods": 1})
    assert (web.owner_kind, web.owner_name, web.has_local_storage) == (OwnerKind.DEPLOYMENT, "web", True)
    assert (snap.pdbs[0].min_available, snap.pdbs[0].disruptions_allowed) == (2, 3)
    assert snap.namespace_labels == {"shop": {"team": "a"}}


def test_only_paginated_list_calls(
    api: tuple[FakeApi, str], kubeconfig: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, _ = api
    monkeypatch.setattr(cluster_reader, "PAGE_SIZE", 2)
    objects = read_cluster(None)  # current context from $KUBECONFIG
    assert len([o for o in objects if o["kind"] == "Pod"]) == 5
    assert {method for method, _, _ in fake.requests} == {"GET"}
    pod_requests = [q for _, path, q in fake.requests if path == PODS]
    assert [q.get("continue") for q in pod_requests] == [None, ["2"], ["4"]]
    assert all(q["limit"] == ["2"] for q in pod_requests)
    assert all("watch" not in q for _, _, q in fake.requests)


def test_default_page_size_is_500(api: tuple[FakeApi, str], kubeconfig: str) -> None:
    fake, _ = api
    read_cluster("fake", kubeconfig)
    assert {q["limit"][0] for _, _, q in fake.requests} == {"500"}


def test_expired_continue_token_restarts_the_listing(
    api: tuple[FakeApi, str], kubeconfig: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, _ = api
    monkeypatch.setattr(cluster_reader, "PAGE_SIZE", 2)
    fake.expire_continue_once.add(PODS)
    objects = read_cluster("fake", kubeconfig)
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "Pod"] == [
        f"web-abc12-{i}" for i in range(5)
    ]


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        (
            PODS,
            403,
            "cannot list pods: forbidden (403) — "
            "the kubeconfig user needs get/list on pods in all namespaces",
        ),
        (
            NODES,
            403,
            "cannot list nodes: forbidden (403) — "
            "the kubeconfig user needs get/list on nodes (cluster-scoped)",
        ),
        (
            PDBS,
            404,
            "cannot list poddisruptionbudgets: not found (404) — the API server does not serve "
            "policy/v1 poddisruptionbudgets; Kubernetes >= 1.21 is needed",
        ),
        (
            NAMESPACES,
            500,
            "cannot list namespaces: HTTP 500 from the API server: etcd is sad — retry, "
            "or check the API server",
        ),
    ],
)
def test_api_errors(api: tuple[FakeApi, str], kubeconfig: str, path: str, code: int, expected: str) -> None:
    fake, _ = api
    fake.failures[path] = (code, status(code, "X", "etcd is sad"))
    with pytest.raises(ClusterReadError) as info:
        read_cluster("fake", kubeconfig)
    assert str(info.value) == expected


def test_unauthorized(api: tuple[FakeApi, str], kubeconfig: str) -> None:
    with pytest.raises(ClusterReadError) as info:
        read_cluster("stale", kubeconfig)
    assert str(info.value) == (
        "cannot list nodes: unauthorized (401) — the kubeconfig credentials were rejected; "
        "refresh them (log in again or renew the token)"
    )


def test_connection_refused(kubeconfig: str) -> None:
    with pytest.raises(ClusterReadError) as info:
        read_cluster("dead", kubeconfig)
    message = str(info.value)
    assert message.startswith("cannot list nodes: cannot reach the API server at http://127.0.0.1:")
    assert "check that the cluster is up and reachable" in message
    assert "\n" not in message


def test_tls_handshake_timeout_is_transient_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    import kubewise.agent.cluster_reader as reader

    silent = socket.socket()  # accepts connections and never answers the TLS ClientHello
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    monkeypatch.setattr(reader, "REQUEST_TIMEOUT", (1, 0.3))
    path = write_kubeconfig(tmp_path / "kubeconfig", f"https://127.0.0.1:{silent.getsockname()[1]}")
    try:
        with pytest.raises(ClusterReadError) as info:
            read_cluster("fake", str(path))
    finally:
        silent.close()
    message = str(info.value)
    assert "did not answer within 0.3s (TLS handshake or response timeout)" in message
    assert "check the network path to the API server" in message and "\n" not in message
    assert info.value.transient


def test_refused_and_5xx_are_transient_but_403_is_not(api: tuple[FakeApi, str], kubeconfig: str) -> None:
    with pytest.raises(ClusterReadError) as refused:
        read_cluster("dead", kubeconfig)
    assert refused.value.transient
    fake, _ = api
    fake.failures[NODES] = (503, status(503, "ServiceUnavailable", "apiserver restarting"))
    with pytest.raises(ClusterReadError) as unavailable:
        read_cluster("fake", kubeconfig)
    assert unavailable.value.transient
    fake.failures[NODES] = (403, status(403, "Forbidden", "no"))
    with pytest.raises(ClusterReadError) as forbidden:
        read_cluster("fake", kubeconfig)
    assert not forbidden.value.transient


def test_not_a_kubernetes_api(api: tuple[FakeApi, str], kubeconfig: str) -> None:
    fake, _ = api
    fake.objects[NODES] = [{"metadata": {"name": "n1"}, "spec": {"taints": "lots"}}]
    with pytest.raises(
        ClusterReadError, match=r"^cannot list nodes: unexpected response from the API server"
    ):
        read_cluster("fake", kubeconfig)


def test_unknown_context(kubeconfig: str) -> None:
    with pytest.raises(ClusterReadError) as info:
        read_cluster("prod", kubeconfig)
    message = str(info.value)
    assert message.startswith(f"cannot load context 'prod' from kubeconfig {kubeconfig}: ")
    assert "prod" in message and message.endswith(
        "check `kubectl config get-contexts` and pass --context/--kubeconfig"
    )


def test_missing_kubeconfig_file(tmp_path: Path) -> None:
    with pytest.raises(ClusterReadError) as info:
        read_cluster(None, str(tmp_path / "nope"))
    assert str(info.value).startswith(
        f"cannot load kubeconfig: no file at {tmp_path / 'nope'} — pass --kubeconfig"
    )


def test_no_kubeconfig_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ClusterReadError, match=r"^cannot load kubeconfig: no file at"):
        read_cluster(None)


def test_malformed_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("clusters: [unclosed\n")
    with pytest.raises(ClusterReadError, match=r"^cannot load the current context from kubeconfig"):
        read_cluster(None, str(path))


def test_kubeconfig_without_contexts(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    with pytest.raises(ClusterReadError, match=r"^cannot load the current context from kubeconfig"):
        read_cluster(None, str(path))
