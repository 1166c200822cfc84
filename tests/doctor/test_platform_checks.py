"""`platform_findings` on recorded `PlatformEvidence`: the cluster states, versions, an idle controller
and the platform's diagnosis problems, each reproduced and found by its check id."""

from __future__ import annotations

import dataclasses
from typing import Any

from kubewise.doctor.findings import Finding
from kubewise.doctor.platform_checks import platform_findings
from kubewise.doctor.platform_evidence import PlatformEvidence, safe_url

AT = "2026-01-01T12:00:00+00:00"


def _cluster(**fields: Any) -> dict[str, Any]:
    view = {
        "id": "c1",
        "name": "prod",
        "status": "Connected",
        "lastHeartbeatAt": "2026-01-01T11:59:30Z",
        "agentVersion": "0.1.0",
        "controllerVersion": "0.1.0",
        "controllerLastSeenAt": "2026-01-01T11:59:50Z",
        "conditions": [],
    }
    return view | fields


def _ev(**fields: Any) -> PlatformEvidence:
    base = PlatformEvidence(
        api_url="https://kubewise.example.com",
        gathered_at=AT,
        reachable=True,
        platform_version="0.1.0",
        auth_status=200,
        scope="read",
        cluster_id="c1",
        cluster=_cluster(),
        policies={"enabled": True},
        diagnosis=[],
    )
    return dataclasses.replace(base, **fields)


def _checks(ev: PlatformEvidence) -> list[str]:
    return sorted(f.check for f in platform_findings(ev)[0])


def test_recorded_healthy_evidence_has_no_finding() -> None:
    findings, checked = platform_findings(_ev())
    assert findings == []
    assert "controller.version" in checked and "cluster.cloud-read-access" in checked


def test_not_responding_and_disconnected_say_reconnect_and_that_delete_touches_nothing() -> None:
    for status, check in (
        ("Not responding", "cluster.not-responding"),
        ("Disconnected", "cluster.disconnected"),
    ):
        (finding,) = platform_findings(_ev(cluster=_cluster(status=status)))[0]
        assert finding.check == check and finding.severity == "error"
        assert "missing" in finding.cause and "crashing" in finding.cause
        assert "Reconnect" in finding.fix and "kubewise connect" in finding.fix
        assert "never touches the cluster" in finding.fix
    (waiting,) = platform_findings(_ev(cluster=_cluster(status="Connecting", lastHeartbeatAt=None)))[0]
    assert waiting.check == "cluster.connecting" and "last heartbeat: never" in waiting.evidence


def test_agent_and_controller_versions_other_than_the_platforms() -> None:
    old = _ev(cluster=_cluster(agentVersion="0.0.9", controllerVersion="0.0.8"))
    assert _checks(old) == ["agent.version-mismatch", "controller.version-mismatch"]
    (agent, controller) = sorted(platform_findings(old)[0], key=lambda f: f.check)
    assert "kubewise connect" in agent.fix and "--apply" in agent.fix and "0.0.9" in agent.title
    assert "--controller" in controller.fix and "field is immutable" in controller.fix
    assert _checks(_ev(cluster=_cluster(agentVersion="v0.1.0"))) == []  # the same release, spelled with a v
    assert (
        _checks(_ev(cluster=_cluster(controllerVersion=None, controllerLastSeenAt=None))) == []
    )  # none installed


def test_missing_ec2_read_permission_from_the_agents_condition() -> None:
    cond = {
        "type": "CloudReadAccess",
        "status": "False",
        "reason": "UnauthorizedOperation",
        "message": "denied",
    }
    (finding,) = platform_findings(_ev(cluster=_cluster(conditions=[cond])))[0]
    assert finding.check == "cluster.cloud-read-access" and "on-demand" in finding.title
    ok = {**cond, "status": "True"}
    assert _checks(_ev(cluster=_cluster(conditions=[ok]))) == []


def test_no_metrics_api_means_no_rightsizing_data() -> None:
    missing = {
        "type": "MetricsAvailable",
        "status": "False",
        "reason": "MetricsServerMissing",
        "message": "the API server does not serve metrics.k8s.io/v1beta1 (404)",
    }
    (finding,) = platform_findings(_ev(cluster=_cluster(conditions=[missing])))[0]
    assert finding.check == "agent.metrics-unavailable" and "install metrics-server" in finding.fix
    forbidden = {**missing, "reason": "Forbidden", "message": "cannot list metrics.k8s.io pods (403)"}
    (finding,) = platform_findings(_ev(cluster=_cluster(conditions=[forbidden])))[0]
    assert "ClusterRole" in finding.fix
    assert _checks(_ev(cluster=_cluster(conditions=[{**missing, "status": "True"}]))) == []


def test_actions_waiting_for_a_controller_that_does_not_call() -> None:
    pending = [
        {
            "id": "a1",
            "kind": "add-nodes",
            "status": "pending",
            "createdAt": "2026-01-01T11:40:00+00:00",
            "instanceType": "m5.large",
        }
    ]
    never = _ev(actions=pending, cluster=_cluster(controllerVersion=None, controllerLastSeenAt=None))
    (finding,) = platform_findings(never)[0]
    assert finding.check == "controller.not-taking-actions" and "never called" in finding.cause
    assert finding.evidence == ("add-nodes m5.large pending since 2026-01-01T11:40:00+00:00",)
    stale = _ev(actions=pending, cluster=_cluster(controllerLastSeenAt="2026-01-01T11:30:00Z"))
    assert _checks(stale) == ["controller.not-taking-actions"]
    assert _checks(_ev(actions=pending)) == []  # the controller called a moment ago: it is working
    fresh = [{**pending[0], "createdAt": "2026-01-01T11:58:00+00:00"}]
    assert _checks(_ev(actions=fresh, cluster=_cluster(controllerLastSeenAt=None))) == []  # just stored


def test_each_diagnosis_problem_becomes_a_finding() -> None:
    problems = [
        {
            "check": "policy.cluster-limit-reached",
            "severity": "error",
            "title": "t",
            "cause": "c",
            "fix": "f",
            "evidence": ["cores now: 18"],
        },
        {
            "check": "policy.evictor-aggressive",
            "severity": "warning",
            "title": "t2",
            "cause": "c2",
            "fix": "f2",
            "evidence": [],
        },
    ]
    findings, checked = platform_findings(_ev(diagnosis=problems))
    assert findings == [
        Finding("policy.cluster-limit-reached", "error", "t", "c", "f", ("cores now: 18",)),
        Finding("policy.evictor-aggressive", "warning", "t2", "c2", "f2"),
    ]
    assert "policy.diagnosis" in checked
    assert (
        "policy.diagnosis"
        not in platform_findings(_ev(diagnosis=None, diagnosis_error="409: no snapshot"))[1]
    )


def test_what_cannot_be_checked_is_not_listed_and_other_refusals() -> None:
    findings, checked = platform_findings(_ev(reachable=False, error="cannot reach", cluster=None))
    assert [f.check for f in findings] == ["platform.unreachable"] and checked == ["platform.reachable"]
    assert platform_findings(_ev(auth_status=None, cluster=None)) == ([], ["platform.reachable"])
    (odd,) = platform_findings(_ev(auth_status=500, auth_message="internal error", cluster=None))[0]
    assert odd.check == "platform.unexpected-answer"
    several = _ev(cluster_id=None, cluster=None, cluster_error="the organization has 2 clusters: name one")
    assert platform_findings(several)[0] == []


def test_evidence_round_trips_and_urls_lose_credentials() -> None:
    ev = _ev(actions=[{"id": "a1", "kind": "delete-node", "status": "done"}])
    assert PlatformEvidence.from_json(ev.to_json()) == ev
    assert PlatformEvidence.from_json({"api_url": "http://x"}) == PlatformEvidence(api_url="http://x")
    assert safe_url("https://admin:pw@kubewise.example.com:8443/base?token=abc#f") == (
        "https://kubewise.example.com:8443/base"
    )
