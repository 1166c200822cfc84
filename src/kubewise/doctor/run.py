"""`diagnose`: what `kubewise doctor` and `kubewise debug-bundle` run -- read the cluster (kubeconfig),
probe the agent's key, ask the platform, probe the cloud, and turn all of it into one `DoctorReport`.

Each source is optional and its absence is said, not hidden: what could not be checked is listed in
`DoctorReport.skipped` with the reason. The secrets met on the way (the user's key, the agent's key)
are returned only so the bundle can redact them; they are never put in the report or the evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kubewise.doctor.cloud_checks import cloud_findings
from kubewise.doctor.cloud_evidence import CloudEvidence
from kubewise.doctor.cloud_gather import cloud_target, gather_cloud
from kubewise.doctor.cluster_checks import cluster_findings
from kubewise.doctor.cluster_evidence import ClusterEvidence
from kubewise.doctor.cluster_gather import agent_credentials, gather_cluster
from kubewise.doctor.findings import DoctorReport, Finding
from kubewise.doctor.key_probe import key_findings, probe_key
from kubewise.doctor.platform_checks import platform_findings
from kubewise.doctor.platform_evidence import PlatformEvidence
from kubewise.doctor.platform_gather import gather_platform

__all__ = ["Diagnosis", "DoctorOptions", "diagnose"]


@dataclass(frozen=True)
class DoctorOptions:
    context: str | None = None
    kubeconfig: str | None = None
    api_url: str | None = None  # the platform as this machine reaches it (default: the agent's API_URL)
    api_key: str | None = field(default=None, repr=False)
    cluster_id: str | None = None  # default: the agent's CLUSTER_ID, else the organization's only one
    cluster: bool = True  # read the cluster through the kubeconfig
    cloud: bool = True  # probe the cloud account with the default credentials
    provider: str | None = None  # override what the nodes say (eks, kops, ...)
    region: str | None = None  # ... and the region
    aws_endpoint_url: str | None = None  # another EC2 endpoint (a VPC endpoint, or an emulator)


@dataclass
class Diagnosis:
    report: DoctorReport
    cluster: ClusterEvidence | None = None
    platform: PlatformEvidence | None = None
    cloud: CloudEvidence | None = None
    secrets: list[str] = field(default_factory=list, repr=False)  # to redact; never printed


def _add(report: DoctorReport, found: Sequence[Finding], checked: Sequence[str]) -> None:
    seen = {f.check for f in report.findings}
    report.findings += [f for f in found if f.check not in seen]  # one cause, reported once
    report.checked += [c for c in checked if c not in report.checked]


def _quiet(_step: str) -> None:
    return None


def diagnose(options: DoctorOptions, *, step: Callable[[str], None] = _quiet) -> Diagnosis:
    """Run every check that the options make possible; `step` is told what is being read (progress)."""
    result = Diagnosis(DoctorReport(), secrets=[options.api_key] if options.api_key else [])
    if options.cluster:
        step("reading the cluster through the kubeconfig")
        result.cluster = _cluster(options, result)
    else:
        result.report.skipped.append(("cluster", "not asked (--no-cluster)"))
    _platform(options, result, step)
    if options.cloud:
        _cloud(options, result, step)
    else:
        result.report.skipped.append(("cloud", "not asked (--no-cloud)"))
    return result


def _cluster(options: DoctorOptions, result: Diagnosis) -> ClusterEvidence:
    cluster = gather_cluster(options.context, options.kubeconfig)
    _add(result.report, *cluster_findings(cluster))
    if not cluster.reachable:
        return cluster
    credentials = agent_credentials(options.context, options.kubeconfig)
    if credentials is None:
        return cluster
    agent_url, agent_key = credentials
    result.secrets.append(agent_key)
    probe = probe_key(options.api_url or agent_url, agent_key)
    found, checked = key_findings(
        probe,
        cluster.cluster_id,
        controller_installed=cluster.controller is not None,
        already=result.report.findings,
    )
    _add(result.report, found, checked)
    if not checked:
        result.report.skipped.append(("the agent's API key", probe.message or probe.outcome))
    return cluster


def _platform(options: DoctorOptions, result: Diagnosis, step: Callable[[str], None]) -> None:
    cluster = result.cluster
    api_url = options.api_url or (cluster.api_url if cluster else "")
    if not api_url:
        result.report.skipped.append(("platform", "no platform URL: pass --server or set KUBEWISE_API_URL"))
        return
    if not options.api_key:
        result.report.skipped.append(("platform", "no API key: pass --api-key or set KUBEWISE_API_KEY"))
        return
    step(f"asking the platform at {api_url}")
    cluster_id = options.cluster_id or (cluster.cluster_id if cluster else "") or None
    result.platform = gather_platform(api_url, options.api_key, cluster_id)
    _add(result.report, *platform_findings(result.platform))


def _cloud(options: DoctorOptions, result: Diagnosis, step: Callable[[str], None]) -> None:
    provider, region = cloud_target(result.cluster) if result.cluster else (None, None)
    provider, region = options.provider or provider, options.region or region
    if not options.cluster and not (options.provider and options.region):
        result.report.skipped.append(("cloud", "without the cluster, pass --provider and --region"))
        return
    step(f"probing the cloud account ({provider or 'unknown provider'}, {region or 'unknown region'})")
    result.cloud = gather_cloud(provider, region, endpoint_url=options.aws_endpoint_url)
    if result.cloud.skipped:
        result.report.skipped.append(("cloud", result.cloud.skipped))
    _add(result.report, *cloud_findings(result.cloud))
