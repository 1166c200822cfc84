"""Which cluster this is: provider, account/project, region, name -- the platform's registration body.

Called by the agent at start. Overrides from the environment come first; then what the nodes say
(labels, `spec.providerID`); what is still missing is asked of the cloud: through `CloudMetadata` on
EKS and kOps (the instance identity document and the instance's tags), through `ClusterMetadata` on
GKE (the GCE metadata server) and AKS (Azure's instance metadata service). Every failure is one
`DiscoveryError` line: what failed, why, and what to do -- as the reference's agent reports it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from kubewise.agent.settings import AgentSettings
from kubewise.cloud.metadata import CloudMetadata, CloudQueryError, ClusterMetadata

__all__ = ["DiscoveryError", "detect_provider", "discover"]

Obj = Mapping[str, Any]


class DiscoveryError(RuntimeError):
    """The cluster could not be identified; one line saying what failed and what to do."""


_EKS_OVERRIDES = "set EKS_ACCOUNT_ID, EKS_REGION and EKS_CLUSTER_NAME on the agent"
_EKS_NAME_LABELS = ("alpha.eksctl.io/cluster-name", "eks.amazonaws.com/cluster-name")
_EKS_NAME_TAGS = ("aws:eks:cluster-name", "eks:cluster-name", "alpha.eksctl.io/cluster-name")
_AKS_GROUP = re.compile(r"^MC_(?P<rg>.+)_(?P<cluster>[^_]+)_(?P<location>[^_]+)$", re.IGNORECASE)


def _labels(node: Obj) -> Mapping[str, str]:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return labels if isinstance(labels, Mapping) else {}


def _provider_id(node: Obj) -> str:
    return str((node.get("spec") or {}).get("providerID") or "")


def _most_common(values: Sequence[str]) -> str | None:
    found = Counter(v for v in values if v)
    return found.most_common(1)[0][0] if found else None


def detect_provider(nodes: Sequence[Obj]) -> str:
    """eks | gke | aks | kops from the nodes' labels and providerIDs (the most common answer)."""
    votes = []
    for node in nodes:
        labels, pid = _labels(node), _provider_id(node)
        if any(k.startswith("kops.k8s.io/") for k in labels):
            votes.append("kops")
        elif any(k.startswith(("eks.amazonaws.com/", "alpha.eksctl.io/")) for k in labels) or pid.startswith(
            "aws:"
        ):
            votes.append("eks")
        elif any(k.startswith("cloud.google.com/gke") for k in labels) or pid.startswith("gce:"):
            votes.append("gke")
        elif any(k.startswith("kubernetes.azure.com/") for k in labels) or pid.startswith("azure:"):
            votes.append("aks")
    provider = _most_common(votes)
    if provider is None:
        raise DiscoveryError(
            "getting provider: no node says which cloud it runs on (labels, spec.providerID) "
            "-- set PROVIDER to eks, gke, aks or kops"
        )
    return provider


def _region(nodes: Sequence[Obj]) -> str | None:
    return _most_common([str(_labels(n).get("topology.kubernetes.io/region", "")) for n in nodes])


def _aws_instance(nodes: Sequence[Obj]) -> str | None:
    ids = [_provider_id(n).rsplit("/", 1)[-1] for n in nodes if _provider_id(n).startswith("aws:")]
    return next((i for i in ids if i.startswith("i-")), None)


def _eks(settings: AgentSettings, nodes: Sequence[Obj], cloud: CloudMetadata | None) -> dict[str, str]:
    account, region = settings.eks_account_id, settings.eks_region or _region(nodes)
    name = settings.eks_cluster_name or _most_common(
        [str(_labels(n).get(k, "")) for n in nodes for k in _EKS_NAME_LABELS]
    )
    if account and region and name:
        return {"accountId": account, "region": region, "clusterName": name}
    if cloud is None:
        raise DiscoveryError(
            f"registering cluster: cannot ask AWS for the cluster's identity -- {_EKS_OVERRIDES}"
        )
    identity = _ask(lambda: cloud.identity(), "getting instance identity")
    account, region = account or identity.account_id, region or identity.region
    if not name:
        instance = _aws_instance(nodes) or identity.instance_id
        tags = _ask(
            lambda: cloud.instance_tags(instance, region),
            f"getting cluster name: describing instance_id={instance}",
        )
        name = next((tags[t] for t in _EKS_NAME_TAGS if tags.get(t)), None) or _cluster_tag(tags)
        if not name:
            raise DiscoveryError(
                f"registering cluster: getting cluster name: instance {instance} has no EKS cluster tag -- "
                f"{_EKS_OVERRIDES}"
            )
    return {"accountId": account, "region": region, "clusterName": name}


def _cluster_tag(tags: Mapping[str, str]) -> str | None:
    """`kubernetes.io/cluster/<name>: owned|shared`, the tag every EKS and kOps node carries."""
    for key in tags:
        if key.startswith("kubernetes.io/cluster/"):
            return key.removeprefix("kubernetes.io/cluster/")
    return tags.get("KubernetesCluster")


def _ask(call: Any, what: str) -> Any:
    try:
        return call()
    except CloudQueryError as exc:
        hint = {
            "UnauthorizedOperation": "give the agent read access to EC2 (AmazonEC2ReadOnlyAccess)",
            "NoCredentialProviders": "give the agent AWS credentials (IRSA role or AWS_ACCESS_KEY_ID/SECRET)",
        }.get(exc.code, "check the agent's network and AWS access")
        raise DiscoveryError(f"registering cluster: {what}: {exc} -- {hint}, or {_EKS_OVERRIDES}") from None


def _kops(settings: AgentSettings, nodes: Sequence[Obj], cloud: CloudMetadata | None) -> dict[str, str]:
    region = settings.kops_region or _region(nodes)
    name = settings.kops_cluster_name or _most_common(
        [str(_labels(n).get("kops.k8s.io/cluster", "")) for n in nodes]
    )
    if not name and cloud is not None and settings.kops_cloud == "aws":
        identity = _ask(lambda: cloud.identity(), "getting instance identity")
        region = region or identity.region
        instance = _aws_instance(nodes) or identity.instance_id
        tags = _ask(
            lambda: cloud.instance_tags(instance, region or identity.region),
            f"describing instance_id={instance}",
        )
        name = _cluster_tag(tags)
    if not (region and name):
        raise DiscoveryError(
            "registering cluster: cannot tell the kOps cluster's name or region "
            "-- set KOPS_CLUSTER_NAME and KOPS_REGION"
        )
    out = {"cloud": settings.kops_cloud, "region": region, "clusterName": name}
    if settings.kops_state_store:
        out["stateStore"] = settings.kops_state_store
    return out


def _ask_server(server: ClusterMetadata | None, missing: bool, overrides: str) -> dict[str, str]:
    """The metadata server's fields when the nodes and the environment left some out."""
    if server is None or not missing:
        return {}
    try:
        return server.cluster_fields()
    except CloudQueryError as exc:
        raise DiscoveryError(f"registering cluster: getting cluster metadata: {exc} -- {overrides}") from None


_GKE_OVERRIDES = "set GKE_PROJECT_ID, GKE_LOCATION and GKE_CLUSTER_NAME on the agent"
_AKS_OVERRIDES = "set AKS_SUBSCRIPTION_ID, AKS_RESOURCE_GROUP, AKS_LOCATION and AKS_CLUSTER_NAME on the agent"


def _gke(settings: AgentSettings, nodes: Sequence[Obj], server: ClusterMetadata | None) -> dict[str, str]:
    ids = [
        _provider_id(n).removeprefix("gce://").split("/")
        for n in nodes
        if _provider_id(n).startswith("gce://")
    ]
    project = settings.gke_project_id or _most_common([p[0] for p in ids if len(p) >= 3])
    location = settings.gke_location or _region(nodes)
    name = settings.gke_cluster_name or _most_common(
        [str(_labels(n).get("cloud.google.com/gke-cluster-name", "")) for n in nodes]
    )
    # The server's location is the cluster's (a zone for zonal clusters), which node labels cannot
    # tell apart from a region: it wins over the labels, not over the environment.
    if project and name and location:  # the server only refines the location: its failure is no error
        try:
            asked = server.cluster_fields() if server is not None and not settings.gke_location else {}
        except CloudQueryError:
            asked = {}
    else:
        asked = _ask_server(server, True, _GKE_OVERRIDES)
    project, name = project or asked.get("projectId"), name or asked.get("clusterName")
    location = settings.gke_location or asked.get("location") or location
    if not (project and location and name):
        raise DiscoveryError(
            "registering cluster: cannot tell the GKE project, location or cluster name from the nodes "
            f"or the metadata server -- {_GKE_OVERRIDES}"
        )
    return {"projectId": project, "location": location, "clusterName": name}


def _aks(settings: AgentSettings, nodes: Sequence[Obj], server: ClusterMetadata | None) -> dict[str, str]:
    pids = [_provider_id(n) for n in nodes if _provider_id(n).startswith("azure://")]
    subscription = settings.aks_subscription_id or _most_common(
        [m.group(1) for p in pids if (m := re.search(r"/subscriptions/([^/]+)/", p))]
    )
    node_group = _most_common([str(_labels(n).get("kubernetes.azure.com/cluster", "")) for n in nodes]) or ""
    parsed = _AKS_GROUP.match(node_group)
    rg = settings.aks_resource_group or (parsed.group("rg") if parsed else None)
    name = settings.aks_cluster_name or (parsed.group("cluster") if parsed else None)
    location = settings.aks_location or _region(nodes) or (parsed.group("location") if parsed else None)
    asked = _ask_server(server, not (subscription and rg and name and location), _AKS_OVERRIDES)
    subscription = subscription or asked.get("subscriptionId")
    rg, name = rg or asked.get("resourceGroup"), name or asked.get("clusterName")
    location = location or asked.get("location")
    if not (subscription and rg and name and location):
        raise DiscoveryError(
            "registering cluster: cannot tell the AKS subscription, resource group, location or name from "
            f"the nodes or the instance metadata -- {_AKS_OVERRIDES}"
        )
    return {"subscriptionId": subscription, "resourceGroup": rg, "location": location, "clusterName": name}


def discover(
    settings: AgentSettings,
    nodes: Sequence[Obj],
    cloud: CloudMetadata | None,
    servers: Mapping[str, ClusterMetadata] | None = None,
) -> dict[str, Any]:
    """The registration body for `POST /v1/kubernetes/external-clusters`. `servers` are the metadata
    servers by provider ("gke", "aks"), asked only for what the nodes and the environment leave out."""
    servers = servers or {}
    provider = settings.provider if settings.provider != "auto" else detect_provider(nodes)
    if provider == "eks":
        return {"eks": _eks(settings, nodes, cloud)}
    if provider == "kops":
        return {"kops": _kops(settings, nodes, cloud)}
    if provider == "gke":
        return {"gke": _gke(settings, nodes, servers.get("gke"))}
    return {"aks": _aks(settings, nodes, servers.get("aks"))}
