"""The platform's checks for `kubewise doctor` (pure): `PlatformEvidence` in, findings out.

Called by the doctor's run on what `platform_gather` recorded (or a debug bundle holds). Each check
reads only the evidence; one that has nothing to look at (the platform was not reached, no cluster
was chosen) is not listed as run. The failures are the reference's: the platform unreachable, the
API's 401 for an invalid key, a cluster Not responding / Disconnected, agent or controller versions
that differ from the platform's, the agent's missing EC2 read permission (its `CloudReadAccess`
condition: spot nodes shown as on-demand), a controller that does not take its actions, and every
policy problem the platform's diagnosis found (`autoscaler.diagnosis`), one finding each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kubewise.agent.controller_manifests import CONTROLLER_NAME
from kubewise.agent.manifests import AGENT_NAME, NAMESPACE
from kubewise.doctor.findings import Finding
from kubewise.doctor.platform_evidence import PlatformEvidence

__all__ = ["CONTROLLER_IDLE", "platform_findings"]

CONTROLLER_IDLE = dt.timedelta(minutes=5)  # actions pending longer, with no controller call since
_CONNECT = "`kubewise connect --provider <eks|gke|aks|kops> --server <URL> --api-key <full key> --apply`"
_RECONNECT = (
    "press Reconnect on the cluster in the console (or POST /v1/kubernetes/external-clusters/<id>/reconnect) "
    f"and re-run {_CONNECT} to install the agent again; deleting the cluster only removes it from the "
    "platform and never touches the cluster"
)


def platform_findings(ev: PlatformEvidence) -> tuple[list[Finding], list[str]]:
    """The findings, and the checks that ran (their names, for `DoctorReport.checked`)."""
    findings: list[Finding] = []
    checked = ["platform.reachable"]
    if not ev.reachable:
        return [_unreachable(ev)], checked
    if ev.auth_status is None:
        return findings, checked  # no key to check: the platform's other checks need one
    checked.append("platform.api-key")
    if ev.auth_status != 200:
        return [_refused(ev)], checked
    if ev.cluster is None:
        if ev.cluster_id is not None and ev.scope != "agent":
            checked.append("platform.cluster")
            findings.append(_no_cluster(ev))
        return findings, checked
    checked += ["cluster.status", "agent.version", "controller.version", "cluster.cloud-read-access"]
    checked.append("agent.metrics-available")
    findings += _status(ev, ev.cluster)
    findings += _versions(ev, ev.cluster)
    findings += _cloud_read(ev.cluster)
    findings += _metrics(ev.cluster)
    checked.append("controller.taking-actions")
    findings += _controller_idle(ev, ev.cluster)
    if ev.diagnosis is not None:
        checked.append("policy.diagnosis")
        findings += [Finding.from_json(p) for p in ev.diagnosis]
    return findings, checked


def _unreachable(ev: PlatformEvidence) -> Finding:
    return Finding(
        "platform.unreachable",
        "error",
        f"The platform at {ev.api_url} cannot be used",
        ev.error or "it did not answer",
        "check the URL (the agent's and controller's API_URL, the CLI's --server), that `kubewise server` "
        "runs there, and that the network or a firewall lets HTTPS through to it",
        (ev.error,) if ev.error else (),
    )


def _refused(ev: PlatformEvidence) -> Finding:
    if ev.auth_status == 401:
        return Finding(
            "platform.invalid-api-key",
            "error",
            "The platform rejects the API key (401 Unauthorized)",
            f"the key is wrong, malformed or revoked: {ev.auth_message or 'invalid API key'}",
            "create a new key with `kubewise admin create-api-key --org <org> --scope full` (or in the "
            "console) and use it; for the agent, re-run kubewise connect with it",
            ("GET /v1/auth/whoami -> 401",),
        )
    return Finding(
        "platform.unexpected-answer",
        "error",
        f"The platform answered {ev.auth_status} when asked about the API key",
        ev.auth_message or "an unexpected answer",
        "look at the platform's log for this request; retry once the platform is healthy",
        (f"GET /v1/auth/whoami -> {ev.auth_status}",),
    )


def _no_cluster(ev: PlatformEvidence) -> Finding:
    known = ", ".join(f"{c['name']} ({c['id']})" for c in ev.clusters) or "none"
    return Finding(
        "platform.cluster-not-found",
        "error",
        f"The platform has no cluster {ev.cluster_id} for this key's organization",
        f"{ev.cluster_error or 'not found'}; the organization's clusters: {known}",
        f"use the id of a connected cluster, or connect this one with {_CONNECT}",
        (f"cluster {ev.cluster_id}: {ev.cluster_error}",),
    )


def _status(ev: PlatformEvidence, cluster: dict[str, Any]) -> list[Finding]:
    status = str(cluster.get("status", ""))
    beat = f"last heartbeat: {cluster.get('lastHeartbeatAt') or 'never'}"
    agent = f"deployment {AGENT_NAME} in namespace {NAMESPACE}"
    if status in ("Not responding", "Disconnected"):
        later = " (if not fixed it becomes Disconnected)" if status == "Not responding" else ""
        return [
            Finding(
                "cluster.not-responding" if status == "Not responding" else "cluster.disconnected",
                "error",
                f"Cluster {cluster.get('name')} is {status}{later}",
                f"its agent stopped sending heartbeats: the {agent} is missing (deleted) or crashing, "
                "or it cannot reach the platform",
                f"check `kubectl -n {NAMESPACE} get pods` and the agent's logs; {_RECONNECT}",
                (f"status: {status}", beat),
            )
        ]
    if status == "Connecting":
        return [
            Finding(
                "cluster.connecting",
                "warning",
                f"Cluster {cluster.get('name')} is registered but its agent has not reported yet",
                f"no heartbeat since it was registered or reconnected: the {agent} is not installed, "
                "not started, or cannot reach the platform",
                f"install it with {_CONNECT}, then check `kubectl -n {NAMESPACE} logs deploy/{AGENT_NAME}`",
                (f"status: {status}", beat),
            )
        ]
    return []


def _bare(version: str) -> str:
    return version.strip().removeprefix("v")


def _versions(ev: PlatformEvidence, cluster: dict[str, Any]) -> list[Finding]:
    platform = ev.platform_version
    out = []
    for part, field, name in (
        ("agent", "agentVersion", AGENT_NAME),
        ("controller", "controllerVersion", CONTROLLER_NAME),
    ):
        running = cluster.get(field)
        if not running or not platform or _bare(str(running)) == _bare(platform):
            continue
        out.append(
            Finding(
                f"{part}.version-mismatch",
                "warning",
                f"The {part} runs kubewise {running}; the platform runs {platform}",
                f"the {part} ({name}) was installed from another kubewise release than the platform's",
                f"upgrade it: re-run {_CONNECT}"
                + (" with --controller and its options" if part == "controller" else "")
                + f"; if the upgrade fails with 'field is immutable', `kubectl -n {NAMESPACE} delete "
                f"deployment {name}` and run it again",
                (f"{field}: {running}", f"platform version: {platform}"),
            )
        )
    return out


def _cloud_read(cluster: dict[str, Any]) -> list[Finding]:
    for cond in cluster.get("conditions") or []:
        if cond.get("type") == "CloudReadAccess" and cond.get("status") == "False":
            return [
                Finding(
                    "cluster.cloud-read-access",
                    "error",
                    "The agent may not read EC2: spot nodes are shown as on-demand",
                    "the agent could not call the EC2 API (DescribeInstances), so the capacity type of "
                    "nodes whose labels do not say it is unknown; costs and savings treat them as on-demand"
                    + (f" ({cond.get('message')})" if cond.get("message") else ""),
                    "give the agent read access to EC2 (AmazonEC2ReadOnlyAccess): annotate the "
                    f"ServiceAccount {AGENT_NAME} in {NAMESPACE} with eks.amazonaws.com/role-arn "
                    "(IRSA), or put AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its Secret",
                    (f"condition CloudReadAccess=False: {cond.get('reason') or 'no reason given'}",),
                )
            ]
    return []


def _metrics(cluster: dict[str, Any]) -> list[Finding]:
    """The agent's `MetricsAvailable` condition: without the metrics API, rightsizing has no data."""
    for cond in cluster.get("conditions") or []:
        if cond.get("type") == "MetricsAvailable" and cond.get("status") == "False":
            forbidden = cond.get("reason") == "Forbidden"
            fix = (
                "re-apply the agent's manifests (`kubewise connect --apply`): its ClusterRole must allow "
                "get/list on metrics.k8s.io pods"
                if forbidden
                else "install metrics-server (https://github.com/kubernetes-sigs/metrics-server), then "
                "check `kubectl top pods -A` answers"
            )
            return [
                Finding(
                    "agent.metrics-unavailable",
                    "warning",
                    "The agent cannot read pod usage: rightsizing has no data",
                    "the agent reads CPU and memory usage from the metrics API (metrics.k8s.io) for "
                    "workload rightsizing"
                    + (f"; it reports: {cond.get('message')}" if cond.get("message") else ""),
                    fix,
                    (f"condition MetricsAvailable=False: {cond.get('reason') or 'no reason given'}",),
                )
            ]
    return []


def _when(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _controller_idle(ev: PlatformEvidence, cluster: dict[str, Any]) -> list[Finding]:
    now = _when(ev.gathered_at)
    if now is None:
        return []
    waiting = [
        a
        for a in ev.actions
        if a.get("status") == "pending" and (t := _when(a.get("createdAt"))) and now - t > CONTROLLER_IDLE
    ]
    seen = _when(cluster.get("controllerLastSeenAt"))
    if not waiting or (seen is not None and now - seen <= CONTROLLER_IDLE):
        return []
    return [
        Finding(
            "controller.not-taking-actions",
            "error",
            f"{len(waiting)} autoscaler action(s) wait for the cluster controller, which is not calling",
            "the controller "
            + (f"last called at {seen.isoformat()}" if seen else "has never called the platform")
            + f": {CONTROLLER_NAME} is not installed, is crashing, or its API key is rejected (forbidden)",
            f"check `kubectl -n {NAMESPACE} logs deploy/{CONTROLLER_NAME}`; install or renew it with "
            f"{_CONNECT} --controller (a new agent key)",
            tuple(
                f"{a.get('kind')} {a.get('node') or a.get('instanceType') or ''} pending since "
                f"{a.get('createdAt')}".replace("  ", " ")
                for a in waiting[:5]
            ),
        )
    ]
