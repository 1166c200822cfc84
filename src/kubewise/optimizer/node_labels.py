"""Labels that a new node of a given type would carry, per provider, and which labels are well known.

Called by `optimizer.candidates` to build hypothetical nodes, and when node templates are derived from
the current nodes (labels outside the well-known set are the template's own, like a node-group label).
"""

from __future__ import annotations

from kubewise.catalog.types import InstanceType
from kubewise.model import CAPACITY_SPOT

__all__ = ["HOSTNAME_KEY", "ZONE_KEYS", "default_zones", "is_well_known", "new_node_labels"]

HOSTNAME_KEY = "kubernetes.io/hostname"
ZONE_KEYS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
_WELL_KNOWN_PREFIXES = (
    "kubernetes.io/",
    "beta.kubernetes.io/",
    "node.kubernetes.io/",
    "topology.kubernetes.io/",
    "failure-domain.beta.kubernetes.io/",
    "node-role.kubernetes.io/",
    "karpenter.sh/",
    "karpenter.k8s.aws/",
    "karpenter.azure.com/",
    "eks.amazonaws.com/",
    "k8s.io/",
    "topology.ebs.csi.aws.com/",
    "topology.gke.io/",
    "cloud.google.com/",
    "kubernetes.azure.com/",
    "node.kubewise.dev/",
    "kops.k8s.io/",
    "alpha.eksctl.io/",
)


def is_well_known(key: str) -> bool:
    """True for labels set by Kubernetes, clouds and provisioners per node (not by the user's pools)."""
    return key.startswith(_WELL_KNOWN_PREFIXES)


def default_zones(provider: str, region: str) -> tuple[str, ...]:
    """Three zones named the way each provider names them, when the input has no nodes to copy from."""
    if provider == "gcp":
        return tuple(f"{region}-{s}" for s in "abc")
    if provider == "azure":
        return tuple(f"{region}-{s}" for s in "123")
    return tuple(f"{region}{s}" for s in "abc")


def new_node_labels(itype: InstanceType, capacity_type: str) -> dict[str, str]:
    """Labels a node of `itype` gets from the kubelet and the provider (zone and hostname added later)."""
    spot = capacity_type == CAPACITY_SPOT
    labels = {
        "node.kubernetes.io/instance-type": itype.name,
        "beta.kubernetes.io/instance-type": itype.name,
        "kubernetes.io/arch": itype.arch,
        "beta.kubernetes.io/arch": itype.arch,
        "kubernetes.io/os": "linux",
        "beta.kubernetes.io/os": "linux",
        "topology.kubernetes.io/region": itype.region,
        "failure-domain.beta.kubernetes.io/region": itype.region,
        "node.kubewise.dev/capacity-type": capacity_type,
        "node.kubewise.dev/instance-family": itype.family,
    }
    if itype.provider == "aws":
        labels |= {
            "karpenter.sh/capacity-type": capacity_type,
            "eks.amazonaws.com/capacityType": "SPOT" if spot else "ON_DEMAND",
            "karpenter.k8s.aws/instance-family": itype.family,
            "karpenter.k8s.aws/instance-cpu": str(itype.vcpu),
            "karpenter.k8s.aws/instance-memory": str(itype.memory_mib),
            "karpenter.k8s.aws/instance-gpu-count": str(itype.gpu),
        }
    elif itype.provider == "gcp":
        labels["cloud.google.com/machine-family"] = itype.family
        if spot:
            labels["cloud.google.com/gke-spot"] = "true"
            labels["cloud.google.com/gke-provisioning"] = "spot"
    elif itype.provider == "azure":
        labels["kubernetes.azure.com/scalesetpriority"] = "spot" if spot else "regular"
    return labels
