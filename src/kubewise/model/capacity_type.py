"""Spot vs on-demand from node labels: the label conventions of EKS, Karpenter, GKE, AKS, kOps & co.

Called by `model.kubectl_nodes` when loading nodes and by the agent when it labels nodes itself.
One table so that every caller agrees on what "spot" means.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubewise.model.objects import CAPACITY_ON_DEMAND, CAPACITY_SPOT

__all__ = ["SPOT_LABELS", "capacity_type_from_labels"]

# label -> values (compared case-insensitively) meaning "spot"; None means "spot whenever present".
SPOT_LABELS: Mapping[str, frozenset[str] | None] = {
    "eks.amazonaws.com/capacityType": frozenset({"spot"}),  # EKS managed node groups: SPOT / ON_DEMAND
    "karpenter.sh/capacity-type": frozenset({"spot"}),  # Karpenter: spot / on-demand / reserved
    "cloud.google.com/gke-spot": frozenset({"true"}),  # GKE Spot VMs
    "cloud.google.com/gke-preemptible": frozenset({"true"}),  # GKE preemptible VMs
    "kubernetes.azure.com/scalesetpriority": frozenset({"spot"}),  # AKS spot node pools
    "node-role.kubernetes.io/spot-worker": None,  # kOps spot instance groups
    "spot": frozenset({"true"}),  # kOps / hand-made convention
    "node.kubernetes.io/lifecycle": frozenset({"spot", "ec2spot"}),  # kOps, eksctl, spot.io
    "lifecycle": frozenset({"ec2spot"}),  # eksctl / kube-spot-termination conventions
    "spotinst.io/node-lifecycle": frozenset({"spot"}),  # Spot Ocean (spot.io): spot / od
    "scheduling.kubewise.dev/spot": frozenset({"true"}),  # kubewise's own label
}


def capacity_type_from_labels(labels: Mapping[str, str]) -> str:
    """`"spot"` when any known spot label says so, else `"on-demand"` (also for Karpenter `reserved`)."""
    for key, spot_values in SPOT_LABELS.items():
        value = labels.get(key)
        if value is None:
            continue
        if spot_values is None or value.lower() in spot_values:
            return CAPACITY_SPOT
    return CAPACITY_ON_DEMAND
