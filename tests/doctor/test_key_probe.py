"""The agent-key probe: `GET /v1/auth/whoami` on a real platform (`tests/live_server.py`), and the
answers a platform can give (httpx MockTransport), turned into findings."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from fake_kube_api import closed_port
from kubewise.doctor.findings import Finding
from kubewise.doctor.key_probe import WHOAMI, KeyProbe, key_findings, probe_key
from live_server import live_server

EKS = {"eks": {"accountId": "111122223333", "region": "eu-central-1", "clusterName": "prod"}}


def _agent_key(url: str, full_key: str) -> tuple[str, str]:
    with httpx.Client(base_url=url, headers={"X-API-Key": full_key}) as http:
        cluster = http.post("/v1/kubernetes/external-clusters", json=EKS).json()["id"]
        key = http.post(f"/v1/kubernetes/external-clusters/{cluster}/agent-key").json()["apiKey"]
    return str(cluster), str(key)


def test_probe_on_a_live_platform(tmp_path: Path) -> None:
    with live_server(tmp_path) as (url, full_key):
        cluster, agent_key = _agent_key(url, full_key)
        good = probe_key(url, agent_key)
        full = probe_key(url, full_key)
        revoked = probe_key(url, "kw_0123456789abcdef_not-a-real-secret")
    assert (good.outcome, good.scope, good.cluster_id) == ("valid", "agent", cluster)
    assert key_findings(good, cluster) == ([], ["platform.agent-key"])
    other = key_findings(good, "another-cluster")[0]
    assert [f.check for f in other] == ["agent.key-for-other-cluster"]
    assert [f.check for f in key_findings(full, cluster)[0]] == ["agent.key-too-broad"]
    assert (revoked.outcome, revoked.status) == ("invalid", 401)
    assert [f.check for f in key_findings(revoked, cluster)[0]] == ["agent.invalid-api-key"]


def _answer(code: int, body: object) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == WHOAMI and request.headers["X-API-Key"] == "kw_k"
        return httpx.Response(code, json=body)

    return httpx.MockTransport(handler)


def test_invalid_key_also_forbids_the_controller_once() -> None:
    probe = probe_key("https://p", "kw_k", transport=_answer(401, {"message": "invalid or revoked API key"}))
    assert probe == KeyProbe("invalid", 401, message="invalid or revoked API key")
    found, ran = key_findings(probe, "c-1", controller_installed=True)
    assert [f.check for f in found] == ["agent.invalid-api-key", "controller.api-key-rejected"]
    assert ran == ["platform.agent-key"]
    already = [Finding("agent.invalid-api-key", "error", "from the logs", "", "")]
    again, _ = key_findings(probe, "c-1", controller_installed=True, already=already)
    assert [f.check for f in again] == ["controller.api-key-rejected"]


def test_read_key_cannot_send() -> None:
    body = {"organizationId": "o", "scope": "read", "clusterId": None}
    probe = probe_key("https://p", "kw_k", transport=_answer(200, body))
    assert [f.check for f in key_findings(probe, "c-1")[0]] == ["agent.api-key-forbidden"]


@pytest.mark.parametrize(("code", "outcome"), [(404, "unsupported"), (500, "error")])
def test_a_platform_that_cannot_say_runs_no_check(code: int, outcome: str) -> None:
    probe = probe_key("https://p", "kw_k", transport=_answer(code, {"message": "nope"}))
    assert probe.outcome == outcome
    assert key_findings(probe, "c-1") == ([], [])


def test_unreachable_platform_is_an_outcome_without_the_key() -> None:
    probe = probe_key(f"http://127.0.0.1:{closed_port()}", "kw_0123456789abcdef_secret-part", timeout=2)
    assert probe.outcome == "unreachable" and "cannot reach the platform" in probe.message
    assert "secret-part" not in repr(probe)
