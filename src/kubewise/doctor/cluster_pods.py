"""How the agent's and controller's pods are doing, read off `ClusterEvidence`: which are failing,
what their logs say (the agent logs JSON lines; the `msg` is what matters), how to title a finding.

Pure helpers for the cluster checks (`doctor.cluster_checks_*`). A pod that runs with every container
ready says nothing to act on: only failing pods' logs are searched for causes, so that an error logged
once and recovered from does not become a finding.
"""

from __future__ import annotations

import json
import re

from kubewise.agent.discovery import DiscoveryError, detect_provider
from kubewise.doctor.cluster_evidence import AGENT, ClusterEvidence, PodEvidence

__all__ = [
    "LABEL_SELECTOR",
    "crashlooping",
    "failing",
    "failing_lines",
    "last_match",
    "message",
    "node_provider",
    "pod_states",
    "state_phrase",
]

LABEL_SELECTOR = {
    AGENT: "app.kubernetes.io/name=kubewise-agent",
    "controller": "app.kubernetes.io/name=kubewise-controller",
}
_EVIDENCE_CHARS = 400


def message(line: str) -> str:
    """The message of a log line: the `msg` of the agent's JSON lines, else the line itself."""
    text = line.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            return text
        if isinstance(doc, dict) and "msg" in doc:
            return str(doc["msg"])
    return text


def failing(ev: ClusterEvidence, component: str) -> list[PodEvidence]:
    return [p for p in ev.pods_of(component) if not p.healthy]


def failing_lines(ev: ClusterEvidence, component: str) -> list[str]:
    """The log messages of `component`'s failing pods, oldest first (the run before, then this one)."""
    out: list[str] = []
    for pod in failing(ev, component):
        for container in pod.containers:
            out += [message(line) for line in (*container.previous_logs, *container.logs)]
    return out


def last_match(lines: list[str], pattern: re.Pattern[str]) -> str | None:
    """The latest line that matches, shortened for a finding's evidence."""
    for line in reversed(lines):
        if pattern.search(line):
            return line[:_EVIDENCE_CHARS]
    return None


def crashlooping(ev: ClusterEvidence, component: str) -> bool:
    return any(c.waiting_reason == "CrashLoopBackOff" for p in ev.pods_of(component) for c in p.containers)


def state_phrase(ev: ClusterEvidence, component: str) -> str:
    """ "is in CrashLoopBackOff" when it is, else "is failing" -- for findings' titles."""
    return "is in CrashLoopBackOff" if crashlooping(ev, component) else "is failing"


def pod_states(ev: ClusterEvidence, component: str) -> list[str]:
    """One evidence line per failing container: its state, restarts and last exit."""
    out = []
    for pod in failing(ev, component):
        for c in pod.containers:
            if c.ready and c.state == "running":
                continue
            state = c.waiting_reason or c.state or pod.phase or "unknown"
            last = f", last exit {c.last_exit_code} ({c.last_reason})" if c.last_reason else ""
            out.append(f"pod {pod.name} container {c.name}: {state}, {c.restart_count} restarts{last}")
    return out


def node_provider(ev: ClusterEvidence) -> str | None:
    """eks | gke | aks | kops as the agent would detect it from the sampled nodes (None: cannot tell)."""
    nodes = [{"metadata": {"labels": n.labels}, "spec": {"providerID": n.provider_id}} for n in ev.nodes]
    try:
        return detect_provider(nodes) if nodes else None
    except DiscoveryError:
        return None
