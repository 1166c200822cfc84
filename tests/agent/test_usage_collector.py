"""The agent's usage collector against the fake Kubernetes API (metrics.k8s.io) and a recording platform."""

from __future__ import annotations

import gzip
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_kube_api import METRICS, FakeApi, serve, status, write_kubeconfig
from kubewise.agent.cluster_reader import ClusterReadError, connect_api
from kubewise.agent.platform_client import PlatformClient
from kubewise.agent.runner import Agent
from kubewise.agent.settings import AgentSettings
from kubewise.agent.usage import UsageCollector, pod_usage

AT = datetime(2026, 12, 2, 6, 30, 0, tzinfo=UTC)


def _metrics(namespace: str, name: str, containers: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """A PodMetrics object as metrics-server serves it."""
    return {
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "timestamp": "2026-12-02T06:29:45Z",
        "window": "15.012s",
        "containers": [
            {"name": c, "usage": {"cpu": cpu, "memory": mem}} for c, (cpu, mem) in containers.items()
        ],
    }


class Recorder(httpx.BaseTransport):
    """A platform that keeps every call's decoded body; usage calls answer `code` (200: all accepted)."""

    def __init__(self, code: int = 200) -> None:
        self.code = code
        self.calls: list[tuple[str, str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raw = request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        body = json.loads(raw) if raw else None
        self.calls.append((request.method, request.url.path, body))
        if not request.url.path.endswith("/usage"):
            return httpx.Response(200, json={})  # snapshot, heartbeat
        if self.code != 200:
            return httpx.Response(self.code, json={"message": f"refused ({self.code})"})
        assert body is not None
        return httpx.Response(200, json={"accepted": len(body["pods"])})


class World:
    def __init__(self, fake: FakeApi, kubeconfig: str) -> None:
        self.fake, self.kubeconfig = fake, kubeconfig

    def collector(self, recorder: Recorder, **kwargs: Any) -> UsageCollector:
        platform = PlatformClient("http://platform.test", "kw_0123456789abcdef_key", transport=recorder)
        return UsageCollector(connect_api(None, self.kubeconfig), platform, wall_clock=lambda: AT, **kwargs)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    fake = FakeApi(
        {
            METRICS: [
                _metrics("shop", "web-1", {"app": ("250m", "64Mi"), "proxy": ("1234567n", "12345Ki")}),
                _metrics("shop", "web-2", {"app": ("1", "1Gi")}),
                _metrics("shop", "starting", {}),  # measured no container yet
                _metrics("kube-system", "dns", {"coredns": ("3m", "20000000")}),
                _metrics("batch", "job-1", {"work": ("2500m", "2Gi")}),
            ]
        }
    )
    with serve(fake) as url:
        yield World(fake, str(write_kubeconfig(tmp_path / "kubeconfig", url)))


def test_usage_is_listed_in_pages_converted_and_sent_in_the_contracts_shape(world: World) -> None:
    recorder = Recorder()
    collector = world.collector(recorder, page_objects=3, list_page=2)
    assert collector.collect("c-1") == 4
    at = "2026-12-02T06:30:00+00:00"
    assert recorder.calls == [
        (
            "POST",
            "/v1/agent/clusters/c-1/usage",
            {
                "at": at,
                "pods": [
                    {
                        "namespace": "shop",
                        "name": "web-1",
                        "containers": {"app": [250.0, 67108864], "proxy": [1.235, 12641280]},
                    },
                    {"namespace": "shop", "name": "web-2", "containers": {"app": [1000.0, 1073741824]}},
                    {"namespace": "kube-system", "name": "dns", "containers": {"coredns": [3.0, 20000000]}},
                ],
            },
        ),
        (
            "POST",
            "/v1/agent/clusters/c-1/usage",
            {
                "at": at,
                "pods": [
                    {"namespace": "batch", "name": "job-1", "containers": {"work": [2500.0, 2147483648]}}
                ],
            },
        ),
    ]
    listings = [(m, q) for m, p, q in world.fake.requests if p == METRICS]
    assert [q.get("continue", [None])[0] for _, q in listings] == [None, "2", "4"]  # three API pages of two
    assert {m for m, _ in listings} == {"GET"}  # read-only
    assert collector.conditions == [
        {"type": "MetricsAvailable", "status": "True", "reason": "", "message": "metrics.k8s.io readable"}
    ]


def test_a_cluster_without_metrics_server_is_a_condition_and_one_warning(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.fake.failures[METRICS] = (
        404,
        status(404, "NotFound", "the server could not find the requested resource"),
    )
    recorder = Recorder()
    collector = world.collector(recorder)
    assert collector.conditions == []  # nothing known before the first round
    with caplog.at_level(logging.WARNING, logger="kubewise.agent"):
        assert collector.collect("c-1") == 0
        assert collector.collect("c-1") == 0
    assert recorder.calls == []
    (condition,) = collector.conditions
    assert condition["type"] == "MetricsAvailable" and condition["status"] == "False"
    assert condition["reason"] == "MetricsServerMissing" and "install metrics-server" in condition["message"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "install metrics-server" in warnings[0]
    del world.fake.failures[METRICS]  # metrics-server installed: usage flows and the condition clears
    assert collector.collect("c-1") == 4
    assert collector.conditions[0]["status"] == "True"


def test_forbidden_metrics_say_which_rule_the_cluster_role_lacks(world: World) -> None:
    world.fake.failures[METRICS] = (403, status(403, "Forbidden", "pods.metrics.k8s.io is forbidden"))
    collector = world.collector(Recorder())
    assert collector.collect("c-1") == 0
    (condition,) = collector.conditions
    assert condition["status"] == "False" and condition["reason"] == "Forbidden"
    assert "ClusterRole lacks metrics.k8s.io pods get/list" in condition["message"]


def test_a_metrics_api_that_is_down_is_reported_not_fatal(world: World) -> None:
    world.fake.failures[METRICS] = (503, status(503, "ServiceUnavailable", "the server is currently unable"))
    collector = world.collector(Recorder())
    assert collector.collect("c-1") == 0
    assert collector.conditions[0]["reason"] == "MetricsUnavailable"
    assert "kubectl get apiservice v1beta1.metrics.k8s.io" in collector.conditions[0]["message"]


def test_rejected_credentials_end_the_agent_like_any_read(world: World) -> None:
    world.fake.token = "rotated"
    with pytest.raises(ClusterReadError, match="unauthorized"):
        world.collector(Recorder()).collect("c-1")


def test_a_platform_without_the_endpoint_is_logged_once_and_asked_no_more(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(code=404)
    collector = world.collector(recorder)
    with caplog.at_level(logging.WARNING, logger="kubewise.agent"):
        assert collector.collect("c-1") == 0
        assert collector.collect("c-1") == 0
    assert len(recorder.calls) == 1 and collector.stopped
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "not sent again until a restart" in warnings[0]
    listed = [p for _, p, _ in world.fake.requests if p == METRICS]
    assert len(listed) == 1  # nor is the cluster asked for metrics it cannot send


def test_a_report_the_platform_refuses_drops_that_round_only(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(code=422)
    collector = world.collector(recorder)
    with caplog.at_level(logging.ERROR, logger="kubewise.agent"):
        assert collector.collect("c-1") == 0
    assert "this round's usage is dropped" in caplog.records[-1].getMessage()
    recorder.code = 200
    assert collector.collect("c-1") == 4 and not collector.stopped


def test_a_listing_whose_continue_token_expires_sends_what_it_read(world: World) -> None:
    world.fake.expire_continue_once.add(METRICS)
    recorder = Recorder()
    collector = world.collector(recorder, list_page=2)
    assert collector.collect("c-1") == 2  # the first page; the rest comes next round
    assert collector.conditions[0]["status"] == "True"
    assert collector.collect("c-1") == 4


def test_malformed_quantities_are_left_out_not_guessed() -> None:
    item = _metrics("shop", "web", {"ok": ("5m", "1Mi"), "bad": ("lots", "1Mi")})
    item["containers"].append({"name": "half", "usage": {"cpu": "5m"}})
    assert pod_usage(item) == {"namespace": "shop", "name": "web", "containers": {"ok": [5.0, 1048576]}}
    assert pod_usage(_metrics("shop", "web", {"bad": ("1", "many")})) is None


def _agent(collector: UsageCollector, usage_seconds: float) -> Agent:
    settings = AgentSettings(
        api_url="http://platform.test",
        api_key="kw_0123456789abcdef_key",
        cluster_id="c-1",
        heartbeat_seconds=0.05,
        usage_seconds=usage_seconds,
    )
    return Agent(settings, collector.platform, lambda: [], None, delta_seconds=10, usage=collector)


def test_the_agent_sends_usage_on_its_interval_and_reports_the_condition(world: World) -> None:
    world.fake.failures[METRICS] = (
        404,
        status(404, "NotFound", "the server could not find the requested resource"),
    )
    recorder = Recorder()
    agent = _agent(world.collector(recorder), usage_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,))
    thread.start()
    try:
        for _ in range(200):
            beats = [b for _, p, b in recorder.calls if p.endswith("/heartbeat")]
            if any(b["conditions"] for b in beats):
                break
            stop.wait(0.02)
        del world.fake.failures[METRICS]
        for _ in range(200):
            if any(p.endswith("/usage") for _, p, _ in recorder.calls):
                break
            stop.wait(0.02)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    beats = [b for _, p, b in recorder.calls if p.endswith("/heartbeat")]
    missing = next(b for b in beats if b["conditions"])["conditions"]
    assert missing[0]["type"] == "MetricsAvailable" and missing[0]["reason"] == "MetricsServerMissing"
    sent = [b for _, p, b in recorder.calls if p.endswith("/usage")]
    assert sent and len(sent[0]["pods"]) == 4


def test_usage_seconds_zero_turns_it_off(world: World) -> None:
    recorder = Recorder()
    agent = _agent(world.collector(recorder), usage_seconds=0)
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,))
    thread.start()
    try:
        for _ in range(200):
            if len([p for _, p, _ in recorder.calls if p.endswith("/heartbeat")]) >= 3:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        thread.join(10)
    assert len([p for _, p, _ in recorder.calls if p.endswith("/heartbeat")]) >= 3
    assert not [p for _, p, _ in recorder.calls if p.endswith("/usage")]
    assert not [p for _, p, _ in world.fake.requests if p == METRICS]
    with pytest.raises(ValueError):
        AgentSettings(usage_seconds=-1)
