"""`gather_cloud`: probe the cloud account of the cluster with the credentials doctor runs with.

Called by doctor's orchestration after the cluster was read: the provider and region come from the
cluster evidence (`cloud_target`). Only AWS is probed (boto3 lives in `kubewise.cloud.aws.permissions`);
any other cloud, or an unknown region, is recorded as skipped with the reason.
"""

from __future__ import annotations

from kubewise.cloud.aws.permissions import probe_ec2_read
from kubewise.doctor.cloud_evidence import CloudEvidence
from kubewise.doctor.cluster_evidence import ClusterEvidence
from kubewise.doctor.cluster_pods import node_provider

__all__ = ["cloud_target", "gather_cloud"]

_AWS = ("eks", "kops")


def cloud_target(ev: ClusterEvidence) -> tuple[str | None, str | None]:
    """(provider, region) of the cluster: what its nodes say, else the agent's PROVIDER setting."""
    provider = node_provider(ev)
    if provider is None and ev.agent is not None:
        configured = ev.agent.env_value("PROVIDER")
        provider = configured if configured and configured != "auto" else None
    cloud = ev.agent.env_value("KOPS_CLOUD") if ev.agent is not None else None
    if provider == "kops" and cloud and cloud != "aws":
        provider = f"kops/{cloud}"  # kOps on GCP or Azure: not AWS
    return provider, ev.region


def gather_cloud(
    provider: str | None, region: str | None, *, endpoint_url: str | None = None
) -> CloudEvidence:
    """What the default AWS credentials may read in `region`; skipped off AWS or without a region."""
    ev = CloudEvidence(provider=provider or "", region=region or "")
    if provider not in _AWS:
        ev.skipped = f"the cloud checks cover AWS only (provider: {provider or 'unknown'})"
        return ev
    if not region:
        ev.skipped = "the cluster's region is unknown (no topology.kubernetes.io/region label, no EKS_REGION)"
        return ev
    access = probe_ec2_read(region, endpoint_url=endpoint_url)
    ev.probed, ev.credentials, ev.identity = True, access.credentials, access.identity
    ev.outcomes, ev.messages = dict(access.outcomes), dict(access.messages)
    return ev
