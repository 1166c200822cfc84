"""The agent against a real platform server on loopback: connect, snapshot, changes, outage, 401, resync."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubewise.agent.platform_client import AgentFatal, PlatformClient
from kubewise.agent.runner import Agent, diff_listings
from kubewise.agent.settings import AgentSettings
from live_server import live_server

EKS_ENV = {"eks_account_id": "111122223333", "eks_region": "us-east-1", "eks_cluster_name": "prod"}


def _node(name: str, rv: str = "1") -> dict[str, Any]:
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "resourceVersion": rv,
            "labels": {
                "node.kubernetes.io/instance-type": "m5.large",
                "topology.kubernetes.io/region": "us-east-1",
                "topology.kubernetes.io/zone": "us-east-1a",
                "eks.amazonaws.com/nodegroup": "ng",
            },
        },
        "spec": {"providerID": f"aws:///us-east-1a/i-{name}"},
        "status": {
            "allocatable": {"cpu": "2", "memory": "7Gi", "pods": "29"},
            "capacity": {"cpu": "2", "memory": "8Gi", "pods": "29"},
        },
    }


def _pod(name: str, rv: str = "1", node: str = "n1") -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": rv},
        "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]},
        "status": {"phase": "Running"},
    }


class Cluster:
    """What `read` returns: a list the test edits between rounds, and how often it was read."""

    def __init__(self) -> None:
        self.objects = [_node("n1"), _pod("a"), _pod("b")]
        self.reads = 0

    def read(self) -> list[dict[str, Any]]:
        self.reads += 1
        return copy.deepcopy(self.objects)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with live_server(tmp_path) as (url, key):
        yield url, key


def _pods_on_platform(url: str, key: str, cluster_id: str) -> list[str]:
    report = httpx.get(
        f"{url}/v1/kubernetes/clusters/{cluster_id}/savings", headers={"X-API-Key": key}
    ).json()
    return sorted(p for n in report["plans"][0]["nodes"] for p in n["pods"])


def _status(url: str, key: str, cluster_id: str) -> str:
    r = httpx.get(f"{url}/v1/kubernetes/external-clusters/{cluster_id}", headers={"X-API-Key": key})
    return str(r.json()["status"])


def test_connect_snapshot_changes_and_heartbeat(platform: tuple[str, str]) -> None:
    url, key = platform
    cluster = Cluster()
    agent = Agent(
        AgentSettings(api_url=url, api_key=key, **EKS_ENV), PlatformClient(url, key), cluster.read, None
    )
    cluster_id = agent.connect()
    agent.snapshot()
    assert _pods_on_platform(url, key, cluster_id) == ["default/a", "default/b"]
    agent.heartbeat()
    assert _status(url, key, cluster_id) == "Connected"
    cluster.objects = [_node("n1"), _pod("a", rv="2"), _pod("c")]  # a changed, b gone, c new
    assert agent.send_changes() == 3
    assert _pods_on_platform(url, key, cluster_id) == ["default/a", "default/c"]
    assert agent.send_changes() == 0  # nothing changed: an empty delta, still a sign of life
    again = Agent(
        AgentSettings(api_url=url, api_key=key, **EKS_ENV), PlatformClient(url, key), cluster.read, None
    )
    assert again.connect() == cluster_id  # re-registration finds the same cluster


def test_reconnect_makes_the_agent_resend_everything(platform: tuple[str, str]) -> None:
    url, key = platform
    cluster = Cluster()
    agent = Agent(
        AgentSettings(api_url=url, api_key=key, **EKS_ENV), PlatformClient(url, key), cluster.read, None
    )
    cluster_id = agent.connect()
    agent.snapshot()
    r = httpx.post(
        f"{url}/v1/kubernetes/external-clusters/{cluster_id}/reconnect", headers={"X-API-Key": key}
    )
    assert r.status_code == 409  # it is connected
    agent.sequence = 99  # as if deltas had been lost: the platform asks for a snapshot
    cluster.objects.append(_pod("d"))
    assert agent.send_changes() == 0
    assert agent.sequence == 100 and "default/d" in _pods_on_platform(url, key, cluster_id)


def test_invalid_key_is_fatal_with_one_line(platform: tuple[str, str]) -> None:
    url, _ = platform
    agent = Agent(
        AgentSettings(api_url=url, api_key="kw_0123456789abcdef_nope", **EKS_ENV),
        PlatformClient(url, "kw_0123456789abcdef_nope"),
        Cluster().read,
        None,
    )
    with pytest.raises(AgentFatal) as err:
        agent.connect()
    assert "registering cluster: invalid API key (401)" in str(err.value) and "\n" not in str(err.value)
    assert "nope" not in str(err.value)


class Flaky(httpx.BaseTransport):
    """Refuses the first `failures` connections, then passes requests to the real server."""

    def __init__(self, failures: int) -> None:
        self.failures, self.seen = failures, 0
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen <= self.failures:
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


def test_platform_outage_is_waited_out_then_reported_if_it_lasts(platform: tuple[str, str]) -> None:
    url, key = platform
    flaky = Flaky(failures=3)
    client = PlatformClient(url, key, transport=flaky, max_wait=0.05, attempts=6)
    agent = Agent(AgentSettings(api_url=url, api_key=key, **EKS_ENV), client, Cluster().read, None)
    assert agent.connect()
    assert flaky.seen == 4
    down = PlatformClient("http://127.0.0.1:9", key, max_wait=0.01, attempts=3)
    with pytest.raises(
        AgentFatal, match=r"cannot reach the platform at http://127\.0\.0\.1:9.*check API_URL"
    ):
        down.register({"eks": {"accountId": "1", "region": "us-east-1", "clusterName": "x"}})


def test_run_loop_until_stopped(platform: tuple[str, str]) -> None:
    url, key = platform
    cluster = Cluster()
    settings = AgentSettings(api_url=url, api_key=key, heartbeat_seconds=0.05, **EKS_ENV)
    agent = Agent(settings, PlatformClient(url, key), cluster.read, None, delta_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,))
    thread.start()
    try:
        for _ in range(200):
            if agent.sequence >= 3:
                break
            stop.wait(0.02)
        cluster.objects.append(_pod("late"))
        target = agent.sequence + 2
        for _ in range(200):
            if agent.sequence >= target:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert agent.cluster_id is not None
    assert "default/late" in _pods_on_platform(url, key, agent.cluster_id)
    assert _status(url, key, agent.cluster_id) == "Connected"


def test_diff_listings() -> None:
    before = {("Pod", "default", "a"): "1", ("Pod", "default", "b"): "1"}
    changes, now = diff_listings(before, [_pod("a", "1"), _pod("c", "5")])
    assert [(c["op"], c["object"]["metadata"]["name"]) for c in changes] == [("upsert", "c"), ("delete", "b")]
    assert now == {("Pod", "default", "a"): "1", ("Pod", "default", "c"): "5"}


def test_health_endpoints_follow_the_loop_and_the_last_platform_contact(platform: tuple[str, str]) -> None:
    from kubewise.agent.health import HealthServer

    url, key = platform
    now = [1000.0]
    agent = Agent(
        AgentSettings(api_url=url, api_key=key, heartbeat_seconds=10, **EKS_ENV),
        PlatformClient(url, key),
        Cluster().read,
        None,
        clock=lambda: now[0],
    )
    health = HealthServer(0, agent.alive, agent.ready, host="127.0.0.1").start()
    try:
        ready, live = (f"http://127.0.0.1:{health.port}/{p}" for p in ("readyz", "healthz"))
        assert httpx.get(ready).json()["detail"] == "starting"
        agent.connect()
        agent.snapshot()
        now[0] += 50
        assert httpx.get(ready).status_code == 200
        now[0] += 100  # silent for longer than three heartbeats: not ready, but not to be restarted
        r = httpx.get(ready)
        assert r.status_code == 503 and "not been reached" in r.json()["detail"]
        assert httpx.get(live).status_code == 200
        agent.heartbeat()
        assert httpx.get(ready).status_code == 200
        now[0] += agent.platform.give_up_after + 200  # the loop stopped going round
        r = httpx.get(live)
        assert r.status_code == 503 and "loop has not run" in r.json()["detail"]
        assert httpx.get(f"http://127.0.0.1:{health.port}/other").status_code == 404
    finally:
        health.stop()


class Outage(httpx.BaseTransport):
    """Passes requests to the real server, except while `down` is set: then every connection is
    refused. `deltas` records the sequence number of each delta that reached the server."""

    def __init__(self) -> None:
        self.down = False
        self.deltas: list[int] = []
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path.endswith("/deltas"):
            import gzip
            import json

            self.deltas.append(json.loads(gzip.decompress(request.read()))["sequence"])
        return self.inner.handle_request(request)


def test_an_outage_while_running_loses_nothing_and_does_not_end_the_agent(
    platform: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    url, key = platform
    cluster = Cluster()
    outage = Outage()
    client = PlatformClient(url, key, transport=outage, max_wait=0.01, attempts=2)
    settings = AgentSettings(api_url=url, api_key=key, heartbeat_seconds=0.05, **EKS_ENV)
    agent = Agent(settings, client, cluster.read, None, delta_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,))

    def wait_for(condition: Any) -> None:
        for _ in range(500):
            if condition():
                return
            stop.wait(0.02)
        raise AssertionError("timed out")

    thread.start()
    try:
        wait_for(lambda: agent.sequence >= 2)
        outage.down = True
        cluster.objects.append(_pod("during"))
        wait_for(lambda: agent._unsent is not None and "keeping what was not sent" in caplog.text)
        (kept_sequence, kept, _) = agent._unsent
        assert [c["object"]["metadata"]["name"] for c in kept] == ["during"]
        cluster.objects.append(_pod("later"))
        stop.wait(0.3)  # several failed rounds: the agent keeps going
        assert thread.is_alive() and agent.alive()[0] and not agent.snapshot_due
        outage.down = False
        wait_for(lambda: agent.sequence > kept_sequence)
    finally:
        stop.set()
        thread.join(10)
    assert agent.cluster_id is not None
    pods = _pods_on_platform(url, key, agent.cluster_id)
    assert {"default/during", "default/later"} <= set(pods)
    assert outage.deltas.count(kept_sequence) == 1 and outage.deltas == sorted(outage.deltas)


def test_a_snapshot_that_did_not_arrive_is_taken_again(platform: tuple[str, str]) -> None:
    url, key = platform
    cluster = Cluster()
    outage = Outage()
    client = PlatformClient(url, key, transport=outage, max_wait=0.01, attempts=2)
    agent = Agent(AgentSettings(api_url=url, api_key=key, **EKS_ENV), client, cluster.read, None)
    cluster_id = agent.connect()
    outage.down = True
    agent._step(agent.snapshot)
    assert agent.snapshot_due
    outage.down = False
    cluster.objects.append(_pod("new"))
    agent._step(agent.send_changes)
    assert not agent.snapshot_due and outage.deltas == []
    assert "default/new" in _pods_on_platform(url, key, cluster_id)


class _Ec2:
    def __init__(self, spot: set[str], error: str | None = None) -> None:
        self.spot, self.error = spot, error

    def identity(self) -> Any:
        raise AssertionError("identity comes from the environment here")

    def instance_tags(self, instance_id: str, region: str) -> dict[str, str]:
        raise AssertionError("the name comes from the environment here")

    def spot_instances(self, instance_ids: list[str], region: str) -> set[str]:
        from kubewise.cloud.metadata import CloudQueryError

        if self.error:
            raise CloudQueryError(self.error, "You are not authorized to perform this operation.")
        return self.spot & set(instance_ids)


def test_spot_from_ec2_reaches_the_platforms_prices(platform: tuple[str, str]) -> None:
    url, key = platform
    agent = Agent(
        AgentSettings(api_url=url, api_key=key, provider="eks", **EKS_ENV),
        PlatformClient(url, key),
        Cluster().read,
        _Ec2({"i-n1"}),
    )
    cluster_id = agent.connect()
    agent.snapshot()
    agent.heartbeat()
    cost = httpx.get(f"{url}/v1/kubernetes/clusters/{cluster_id}/cost", headers={"X-API-Key": key}).json()
    assert [n["capacityType"] for n in cost["nodes"]] == ["spot"] and cost["warnings"] == []


def test_missing_ec2_permission_shows_on_the_cluster(platform: tuple[str, str]) -> None:
    url, key = platform
    agent = Agent(
        AgentSettings(api_url=url, api_key=key, provider="eks", **EKS_ENV),
        PlatformClient(url, key),
        Cluster().read,
        _Ec2(set(), error="UnauthorizedOperation"),
    )
    cluster_id = agent.connect()
    agent.snapshot()
    agent.heartbeat()
    view = httpx.get(f"{url}/v1/kubernetes/external-clusters/{cluster_id}", headers={"X-API-Key": key}).json()
    (condition,) = view["conditions"]
    assert condition["type"] == "CloudReadAccess" and condition["status"] == "False"
    cost = httpx.get(f"{url}/v1/kubernetes/clusters/{cluster_id}/cost", headers={"X-API-Key": key}).json()
    assert cost["nodes"][0]["capacityType"] == "on-demand"
    assert any("AmazonEC2ReadOnlyAccess" in w for w in cost["warnings"])


def test_transient_cluster_read_failures_at_start_are_retried(platform: tuple[str, str]) -> None:
    from kubewise.agent.cluster_reader import ClusterReadError

    url, key = platform
    cluster, calls = Cluster(), []

    def flaky_nodes() -> list[dict[str, Any]]:
        calls.append(1)
        if len(calls) <= 2:
            raise ClusterReadError("cannot list nodes: TLS handshake timeout", transient=True)
        return [o for o in cluster.read() if o["kind"] == "Node"]

    settings = AgentSettings(
        api_url=url, api_key=key, provider="eks", eks_account_id="1", eks_region="us-east-1"
    )
    agent = Agent(
        settings, PlatformClient(url, key), cluster.read, None, read_nodes=flaky_nodes, read_wait=0.01
    )
    with pytest.raises(Exception, match="EKS_CLUSTER_NAME"):  # read fine on the third try; no name anywhere
        agent.connect()
    assert len(calls) == 3

    def forbidden() -> list[dict[str, Any]]:
        calls.append(1)
        raise ClusterReadError("cannot list nodes: forbidden (403)")

    calls.clear()
    agent = Agent(
        settings, PlatformClient(url, key), cluster.read, None, read_nodes=forbidden, read_wait=0.01
    )
    with pytest.raises(ClusterReadError, match="forbidden"):
        agent.connect()
    assert len(calls) == 1  # waiting does not fix RBAC


def test_a_platform_that_never_finishes_the_tls_handshake_is_named_as_such() -> None:
    import socket

    silent = socket.socket()  # accepts the TCP connection, never answers the TLS ClientHello
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"https://127.0.0.1:{silent.getsockname()[1]}"
    client = PlatformClient(url, "kw_x_y", attempts=2, max_wait=0.01, timeout=httpx.Timeout(5.0, connect=0.3))
    try:
        with pytest.raises(AgentFatal) as err:
            client.register({"eks": {"accountId": "1", "region": "us-east-1", "clusterName": "x"}})
    finally:
        silent.close()
    message = str(err.value)
    assert message.startswith(f"agent failed: registering cluster: the platform at {url} did not complete")
    assert "within 0.3s (TCP or TLS handshake timeout)" in message and "check API_URL" in message
    assert "\n" not in message and "kw_x_y" not in message
