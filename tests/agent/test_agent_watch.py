"""Changes by watch: events reach the platform as deltas; an expired watch (410) leads to a new snapshot."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from test_agent_runner import EKS_ENV, _node, _pod

from fake_kube_api import NODES, PODS, FakeApi, serve, write_kubeconfig
from kubewise.agent.cluster_reader import connect_api, read_cluster
from kubewise.agent.platform_client import PlatformClient
from kubewise.agent.runner import Agent
from kubewise.agent.settings import AgentSettings
from kubewise.agent.watcher import ClusterWatch
from live_server import live_server


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[FakeApi, Agent, str, str]]:
    fake = FakeApi({NODES: [_node("n1")], PODS: [_pod("a")]})
    with serve(fake) as kube_url, live_server(tmp_path) as (url, key):
        kubeconfig = str(write_kubeconfig(tmp_path / "kubeconfig", kube_url))
        watch = ClusterWatch(connect_api(None, kubeconfig), timeout_seconds=1)
        agent = Agent(
            AgentSettings(api_url=url, api_key=key, **EKS_ENV),
            PlatformClient(url, key),
            lambda: read_cluster(None, kubeconfig, workloads=True),
            None,
            watch=watch,
        )
        try:
            yield fake, agent, url, key
        finally:
            watch.stop()


def _until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _pods(url: str, key: str, cluster_id: str) -> list[str]:
    report = httpx.get(
        f"{url}/v1/kubernetes/clusters/{cluster_id}/savings", headers={"X-API-Key": key}
    ).json()
    return sorted(p for n in report["plans"][0]["nodes"] for p in n["pods"])


def test_watched_changes_become_deltas(setup: tuple[FakeApi, Agent, str, str]) -> None:
    fake, agent, url, key = setup
    cluster_id = agent.connect()
    agent.snapshot()
    assert _pods(url, key, cluster_id) == ["default/a"]
    fake.emit(PODS, "ADDED", _pod("b"))
    fake.emit(PODS, "MODIFIED", _pod("a"))
    fake.emit(PODS, "DELETED", _pod("a"))
    sent: list[int] = []
    _until(lambda: bool(sent.append(agent.send_changes()) or sum(sent) >= 2))
    assert _pods(url, key, cluster_id) == ["default/b"]
    watches = [q for m, p, q in fake.requests if p == PODS and q.get("watch")]
    assert watches and watches[0]["resourceVersion"] == ["42"]  # from the listing's version
    assert {m for m, _, _ in fake.requests} == {"GET"}


def test_an_object_the_client_models_reject_still_comes_through(
    setup: tuple[FakeApi, Agent, str, str],
) -> None:
    # the client's V1Node requires every nodeInfo field; an API server may send fewer (or a newer shape)
    fake, agent, _, _ = setup
    agent.connect()
    agent.snapshot()
    odd = _node("n2")
    odd["status"]["nodeInfo"] = {"architecture": "arm64"}
    fake.emit(NODES, "ADDED", odd)
    seen: list[dict[str, object]] = []
    _until(lambda: bool(seen.extend((agent.watch.drain() or []) if agent.watch else [])) or bool(seen))
    (change,) = seen
    assert change["op"] == "upsert" and change["object"]["metadata"]["name"] == "n2"  # type: ignore[index]


def test_an_expired_watch_makes_a_new_snapshot(setup: tuple[FakeApi, Agent, str, str]) -> None:
    fake, agent, url, key = setup
    cluster_id = agent.connect()
    agent.snapshot()
    before = agent.sequence
    fake.objects[PODS].append({**_pod("c"), "metadata": {**_pod("c")["metadata"], "resourceVersion": "99"}})
    fake.oldest_watchable = 10_000  # the API server compacted its history: every watch answers 410
    _until(lambda: agent.watch is not None and agent.watch.drain() is None)
    fake.oldest_watchable = 0
    agent.send_changes()  # sees the expiry, lists again and sends a snapshot
    assert agent.sequence == before + 1
    assert _pods(url, key, cluster_id) == ["default/a", "default/c"]


def test_a_watch_refused_by_rbac_is_fatal(setup: tuple[FakeApi, Agent, str, str]) -> None:
    from fake_kube_api import status
    from kubewise.agent.cluster_reader import ClusterReadError

    fake, agent, _, _ = setup
    fake.watch_failures[PODS] = (403, status(403, "Forbidden", "pods is forbidden: cannot watch"))
    agent.connect()
    agent.snapshot()
    assert agent.watch is not None
    with pytest.raises(
        ClusterReadError, match=r"cannot watch pods: forbidden \(403\).*get/list/watch on pods"
    ):
        _until(lambda: agent.watch is not None and agent.watch.drain() == ["never"])


class _Recording(httpx.BaseTransport):
    """Passes requests to the real server and records each snapshot call's page, last and size."""

    def __init__(self) -> None:
        self.pages: list[tuple[int, bool, int]] = []
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/snapshot"):
            import gzip
            import json

            body = json.loads(gzip.decompress(request.read()))
            self.pages.append((body["page"], body["last"], len(body["items"])))
        return self.inner.handle_request(request)


def test_a_large_snapshot_goes_out_in_pages_as_it_is_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kubewise.agent.cluster_reader as reader

    monkeypatch.setattr(reader, "PAGE_SIZE", 2)  # the API server's pages: 2 objects
    pods = [_pod(f"p{i}") for i in range(7)]
    fake = FakeApi({NODES: [_node("n1")], PODS: pods})
    recording = _Recording()
    with serve(fake) as kube_url, live_server(tmp_path) as (url, key):
        kubeconfig = str(write_kubeconfig(tmp_path / "kubeconfig", kube_url))
        watch = ClusterWatch(connect_api(None, kubeconfig), timeout_seconds=1)
        agent = Agent(
            AgentSettings(api_url=url, api_key=key, snapshot_page_objects=3, **EKS_ENV),
            PlatformClient(url, key, transport=recording),
            lambda: read_cluster(None, kubeconfig, workloads=True),
            None,
            watch=watch,
        )
        try:
            cluster_id = agent.connect()
            agent.snapshot()
            assert _pods(url, key, cluster_id) == sorted(f"default/p{i}" for i in range(7))
        finally:
            watch.stop()
    # 8 objects in pages of at most 3, the final one marked last; numbered from 0
    assert recording.pages == [(0, False, 3), (1, False, 3), (2, True, 2)]
    limits = [q.get("limit") for m, p, q in fake.requests if p == PODS and not q.get("watch")]
    assert limits and all(limit == ["2"] for limit in limits)
