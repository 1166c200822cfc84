"""Is the agent's API key good on the platform? `probe_key` asks, `key_findings` says what it means.

Called by doctor's orchestration with what `doctor.cluster_gather.agent_credentials` read from the
agent's Secret. The probe is one `GET /v1/auth/whoami` with the key in `X-API-Key`: 200 answers
`{"organizationId", "scope", "clusterId"}`, an invalid or revoked key 401 `{"message"}`. The key itself
is sent, never recorded: a `KeyProbe` holds only what the platform answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import httpx

from kubewise.agent.manifests import AGENT_NAME
from kubewise.doctor.findings import Finding

__all__ = ["WHOAMI", "KeyProbe", "key_findings", "probe_key"]

WHOAMI = "/v1/auth/whoami"
Outcome = Literal["valid", "invalid", "unsupported", "unreachable", "error"]
_RECONNECT = "Run `kubewise connect --apply`: it mints this cluster's agent key and writes it to the Secret."


@dataclass(frozen=True)
class KeyProbe:
    outcome: Outcome
    status: int | None = None  # the HTTP status, when the platform answered
    organization_id: str = ""
    scope: str = ""  # read | full | agent
    cluster_id: str = ""  # agent keys: the cluster they belong to
    message: str = ""  # the platform's message, or why it could not be asked


def probe_key(
    api_url: str, api_key: str, *, transport: httpx.BaseTransport | None = None, timeout: float = 10.0
) -> KeyProbe:
    """Ask the platform at `api_url` who `api_key` is. Never raises for the platform's or the network's
    failures: they are the probe's outcome."""
    try:
        with httpx.Client(base_url=api_url.rstrip("/"), timeout=timeout, transport=transport) as http:
            response = http.get(WHOAMI, headers={"X-API-Key": api_key})
    except httpx.HTTPError as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        return KeyProbe("unreachable", message=f"cannot reach the platform at {api_url}: {detail}")
    try:
        doc = response.json() if response.content else {}
    except ValueError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    message = str(doc.get("message") or response.reason_phrase)
    code = response.status_code
    if code == 200:
        return KeyProbe(
            "valid",
            code,
            organization_id=str(doc.get("organizationId") or ""),
            scope=str(doc.get("scope") or ""),
            cluster_id=str(doc.get("clusterId") or ""),
        )
    if code == 401:
        return KeyProbe("invalid", code, message=message)
    if code in (404, 405):  # a platform older than the whoami route
        return KeyProbe("unsupported", code, message=f"the platform has no {WHOAMI} ({code})")
    return KeyProbe("error", code, message=f"{WHOAMI} answered {code}: {message}")


def _invalid(probe: KeyProbe, controller_installed: bool) -> list[Finding]:
    evidence = (f"GET {WHOAMI}: {probe.status} {probe.message}",)
    cause = (
        f"The platform answers 401 to the API key in the Secret {AGENT_NAME}: it was revoked, mistyped, or "
        "issued by another kubewise platform. The agent cannot send, and the controller (which runs with "
        "the same key) cannot fetch actions."
    )
    found = [
        Finding(
            "agent.invalid-api-key", "error", "The agent's API key is invalid", cause, _RECONNECT, evidence
        )
    ]
    if controller_installed:
        title = "The cluster controller is forbidden by the platform: its key is invalid"
        found.append(Finding("controller.api-key-rejected", "error", title, cause, _RECONNECT, evidence))
    return found


def _valid(probe: KeyProbe, cluster_id: str) -> list[Finding]:
    evidence = (f"GET {WHOAMI}: scope {probe.scope}, cluster {probe.cluster_id or '-'}",)
    if probe.scope == "agent" and cluster_id and probe.cluster_id and probe.cluster_id != cluster_id:
        cause = (
            f"The agent runs as cluster {cluster_id} (CLUSTER_ID) with the agent key of cluster "
            f"{probe.cluster_id}: the platform refuses its data (another cluster's key was copied here)."
        )
        title = "The agent's API key belongs to another cluster"
        return [Finding("agent.key-for-other-cluster", "error", title, cause, _RECONNECT, evidence)]
    if probe.scope == "read":
        cause = "The agent runs with a 'read' key: the platform refuses everything it sends (403)."
        return [
            Finding(
                "agent.api-key-forbidden",
                "error",
                "The agent's API key is read-only",
                cause,
                _RECONNECT,
                evidence,
            )
        ]
    if probe.scope == "full":
        cause = (
            "The agent runs with a 'full' key of the organization: it works, but anyone who can read the "
            f"Secret {AGENT_NAME} can change every cluster's policies. An agent key can only send this "
            "cluster's data."
        )
        title = "The agent runs with a full-access API key"
        return [Finding("agent.key-too-broad", "warning", title, cause, _RECONNECT, evidence)]
    return []


def key_findings(
    probe: KeyProbe, cluster_id: str, *, controller_installed: bool = False, already: Sequence[Finding] = ()
) -> tuple[list[Finding], list[str]]:
    """Findings from the probe for the cluster `cluster_id` (the agent's CLUSTER_ID), and the checks that
    ran (none when the platform could not say). Findings whose check is `already` reported (e.g. from
    the agent's logs by `cluster_findings`) are left out, so that one cause is reported once."""
    if probe.outcome == "invalid":
        found = _invalid(probe, controller_installed)
    elif probe.outcome == "valid":
        found = _valid(probe, cluster_id)
    else:
        return [], []
    reported = {f.check for f in already}
    return [f for f in found if f.check not in reported], ["platform.agent-key"]
