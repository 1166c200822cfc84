"""`build_bundle`: what `kubewise debug-bundle` writes -- the doctor's results and everything it read,
the agent's and controller's logs, the installed manifests, the versions, the policies and the recent
actions, in one `.tar.gz` with every secret redacted.

Layout (under `kubewise-debug-<time>/`): `README.txt`, `versions.json`, `doctor.json`,
`cluster/evidence.json`, `cluster/logs/<pod>/<container>[.previous].log`, `cluster/manifests/<kind>.yaml`,
`platform/{evidence,policies,actions}.json`, `cloud/evidence.json`. The redactor is given every secret
doctor met (the user's key, the agent's key) on top of its patterns, so those values cannot survive in
any member, in plain or base64 form.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kubewise import __version__
from kubewise.doctor.archive import write_archive
from kubewise.doctor.cluster_evidence import ClusterEvidence
from kubewise.doctor.redact import Redactor
from kubewise.doctor.run import Diagnosis

__all__ = ["build_bundle", "bundle_members", "default_bundle_path"]

_README = """kubewise debug bundle, written {created} by kubewise {version}.

doctor.json          what `kubewise doctor` found (findings with cause and fix, checks run, skipped)
versions.json        kubewise here, the platform, the agent and the controller
cluster/             what was read through the kubeconfig: evidence, logs, installed manifests
platform/            the platform's view of the cluster, its policies and recent autoscaler actions
cloud/               what the cloud credentials may do

Every secret was redacted before it was written: API keys, AWS keys, tokens, passwords and every
value of every Kubernetes Secret read as [REDACTED]. Read it before sending it anyway.
"""


def default_bundle_path(now: dt.datetime) -> Path:
    return Path(f"kubewise-debug-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz")


def _logs(cluster: ClusterEvidence) -> dict[str, str]:
    members = {}
    for pod in cluster.pods:
        for container in pod.containers:
            base = f"cluster/logs/{pod.name}/{container.name}"
            if container.logs:
                members[f"{base}.log"] = "".join(f"{line}\n" for line in container.logs)
            if container.previous_logs:
                members[f"{base}.previous.log"] = "".join(f"{line}\n" for line in container.previous_logs)
    return members


def _versions(diagnosis: Diagnosis) -> dict[str, Any]:
    cluster, platform = diagnosis.cluster, diagnosis.platform
    view = (platform.cluster if platform else None) or {}
    installed = {
        d.name: {"version": d.version, "images": d.images} for d in (cluster.deployments if cluster else [])
    }
    return {
        "kubewise": __version__,
        "platform": platform.platform_version if platform else None,
        "agentReported": view.get("agentVersion"),
        "controllerReported": view.get("controllerVersion"),
        "installed": installed,
    }


def bundle_members(
    diagnosis: Diagnosis, manifests: dict[str, list[Any]], manifest_errors: list[str], now: dt.datetime
) -> dict[str, Any]:
    """The bundle's members, by path, before redaction (`write_archive` redacts each)."""
    members: dict[str, Any] = {
        "README.txt": _README.format(created=now.isoformat(), version=__version__),
        "versions.json": _versions(diagnosis),
        "doctor.json": diagnosis.report.to_json(),
    }
    if diagnosis.cluster is not None:
        members["cluster/evidence.json"] = diagnosis.cluster.to_json()
        members.update(_logs(diagnosis.cluster))
    for kind, objects in manifests.items():
        if objects:
            members[f"cluster/manifests/{kind}.yaml"] = objects
    if manifest_errors:
        members["cluster/manifests/errors.txt"] = "".join(f"{e}\n" for e in manifest_errors)
    if diagnosis.platform is not None:
        members["platform/evidence.json"] = diagnosis.platform.to_json()
        members["platform/policies.json"] = diagnosis.platform.policies
        members["platform/actions.json"] = diagnosis.platform.actions
    if diagnosis.cloud is not None:
        members["cloud/evidence.json"] = diagnosis.cloud.to_json()
    return members


def build_bundle(
    target: Path,
    diagnosis: Diagnosis,
    manifests: dict[str, list[Any]],
    manifest_errors: list[str],
    *,
    now: dt.datetime,
) -> Path:
    members = bundle_members(diagnosis, manifests, manifest_errors, now)
    root = f"kubewise-debug-{now.strftime('%Y%m%dT%H%M%SZ')}"
    return write_archive(target, members, Redactor(diagnosis.secrets), created_at=now, root=root)
