"""Reading the platform for `kubewise doctor`: `gather_platform` -> `PlatformEvidence`.

Called by the doctor's run (and the debug bundle). Read-only: `GET` calls with the user's API key and
nothing else. It never raises for what doctor is there to diagnose -- an unreachable platform, a
refused key, a missing cluster, a cluster without a snapshot -- it records them, and the pure
`platform_checks` turn them into findings. The key is sent in `X-API-Key` only; it is not recorded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from kubewise.doctor.platform_evidence import PlatformEvidence, safe_url

__all__ = ["ACTIONS_READ", "gather_platform"]

ACTIONS_READ = 50  # the newest actions kept: enough to show what the autoscaler has been doing


class _Stop(Exception):
    """The platform cannot tell more (the reason is already in the evidence)."""


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200]
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def _get(http: httpx.Client, ev: PlatformEvidence, path: str, **params: Any) -> httpx.Response:
    try:
        return http.get(path, params=params or None)
    except httpx.HTTPError as exc:
        ev.reachable = False  # it answered before: say so in the finding, not only here
        ev.error = f"the platform at {ev.api_url} stopped answering ({type(exc).__name__}: {exc})"
        raise _Stop from None


def gather_platform(
    api_url: str,
    api_key: str,
    cluster_id: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 10.0,
) -> PlatformEvidence:
    """What the platform says about itself, the key and the cluster (`cluster_id`, or the
    organization's only cluster when None)."""
    ev = PlatformEvidence(api_url=safe_url(api_url), gathered_at=dt.datetime.now(dt.UTC).isoformat())
    headers = {"X-API-Key": api_key} if api_key else {}
    try:
        with httpx.Client(
            base_url=api_url.strip().rstrip("/"), headers=headers, timeout=timeout, transport=transport
        ) as http:
            _version(http, ev)
            if not api_key:
                ev.auth_message = "no API key given"
                return ev
            _whoami(http, ev)
            _cluster(http, ev, cluster_id)
            if ev.cluster is not None:
                _cluster_state(http, ev)
    except _Stop:
        pass
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        ev.error = f"the platform URL {ev.api_url!r} is not usable: {exc}"
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # an answer of an unexpected shape
        ev.reachable = False
        ev.error = f"the platform at {ev.api_url} gave an answer doctor cannot read ({type(exc).__name__})"
    return ev


def _version(http: httpx.Client, ev: PlatformEvidence) -> None:
    try:
        r = http.get("/v1/version")
    except httpx.TransportError as exc:
        ev.error = f"cannot reach the platform at {ev.api_url} ({type(exc).__name__}: {exc})"
        raise _Stop from None
    try:
        body = r.json()
    except ValueError:
        body = None
    if r.status_code != 200 or not isinstance(body, dict) or "version" not in body:
        ev.error = (
            f"{ev.api_url} answered GET /v1/version with {r.status_code}, not with a kubewise platform's "
            "version: it is not kubewise, or a kubewise older than this doctor"
        )
        raise _Stop
    ev.reachable, ev.platform_version = True, str(body["version"])


def _whoami(http: httpx.Client, ev: PlatformEvidence) -> None:
    r = _get(http, ev, "/v1/auth/whoami")
    ev.auth_status = r.status_code
    if r.status_code != 200:
        ev.auth_message = _message(r)
        raise _Stop
    body = r.json()
    ev.scope, ev.organization_id, ev.key_id = body.get("scope"), body.get("organizationId"), body.get("keyId")
    if ev.scope == "agent":
        ev.cluster_id = body.get("clusterId")


def _cluster(http: httpx.Client, ev: PlatformEvidence, cluster_id: str | None) -> None:
    if ev.scope == "agent":  # it can send its cluster's data, not read views
        ev.cluster_id = cluster_id or ev.cluster_id
        ev.cluster_error = "an agent key cannot read the cluster's view: use a 'read' or 'full' key"
        return
    r = _get(http, ev, "/v1/kubernetes/external-clusters")
    if r.status_code == 200:
        items = r.json().get("items", [])
        ev.clusters = [{"id": c["id"], "name": c["name"], "status": c["status"]} for c in items]
    if cluster_id is None:
        if len(ev.clusters) != 1:
            ev.cluster_error = (
                "the organization has no cluster"
                if not ev.clusters
                else f"the organization has {len(ev.clusters)} clusters: name one (its id)"
            )
            return
        cluster_id = ev.clusters[0]["id"]
    ev.cluster_id = cluster_id
    r = _get(http, ev, f"/v1/kubernetes/external-clusters/{cluster_id}")
    if r.status_code != 200:
        ev.cluster_error = f"{r.status_code}: {_message(r)}"
        return
    ev.cluster = r.json()


def _cluster_state(http: httpx.Client, ev: PlatformEvidence) -> None:
    base = f"/v1/kubernetes/clusters/{ev.cluster_id}"
    r = _get(http, ev, f"{base}/policies")
    if r.status_code == 200:
        ev.policies = r.json()
    r = _get(http, ev, f"{base}/actions", limit=ACTIONS_READ)
    if r.status_code == 200:
        ev.actions = list(r.json().get("items", []))
    r = _get(http, ev, f"{base}/diagnosis")
    if r.status_code == 200:
        ev.diagnosis = list(r.json().get("problems", []))
    else:
        ev.diagnosis_error = f"{r.status_code}: {_message(r)}"
