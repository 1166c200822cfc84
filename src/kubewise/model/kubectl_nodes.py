"""Raw Kubernetes Node dicts -> `model.Node`: resources, taints, and cloud placement facts.

Called by `model.loading` (kubectl dumps and the agent's API reads). Pure functions.
Provider, region, zone, instance type, arch/os and spot-ness come from well-known labels first,
then from `spec.providerID` (`aws:///us-east-1a/i-...`, `gce://project/zone/name`) and `status.nodeInfo`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubewise.model.capacity_type import capacity_type_from_labels
from kubewise.model.kube_fields import QuantityCache, Reader, identify
from kubewise.model.kube_selectors import parse_taints
from kubewise.model.objects import Node
from kubewise.model.resources import Resources

__all__ = ["parse_node", "provider_from", "region_from_zone", "zone_from_provider_id"]

_PROVIDER_ID_PREFIXES = {"aws://": "aws", "gce://": "gcp", "azure://": "azure"}
_PROVIDER_LABEL_PREFIXES = (
    ("eks.amazonaws.com/", "aws"),
    ("karpenter.k8s.aws/", "aws"),
    ("alpha.eksctl.io/", "aws"),
    ("cloud.google.com/", "gcp"),
    ("kubernetes.azure.com/", "azure"),
)
_AWS_REGION = re.compile(r"^([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+)")  # us-east-1a, us-west-2-lax-1a
_GCP_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")  # us-central1-a
_AZURE_ZONE = re.compile(r"^([a-z]+[a-z0-9]*)-\d+$")  # eastus-1

INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")
ARCH_LABELS = ("kubernetes.io/arch", "beta.kubernetes.io/arch")
OS_LABELS = ("kubernetes.io/os", "beta.kubernetes.io/os")


def _first_label(labels: Mapping[str, str], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = labels.get(key)
        if value:
            return value
    return ""


def provider_from(provider_id: str, labels: Mapping[str, str]) -> str:
    """`aws` | `gcp` | `azure` from the providerID scheme, else from provider-specific labels; else ""."""
    for prefix, provider in _PROVIDER_ID_PREFIXES.items():
        if provider_id.startswith(prefix):
            return provider
    for key in labels:
        for prefix, provider in _PROVIDER_LABEL_PREFIXES:
            if key.startswith(prefix):
                return provider
    return ""


def zone_from_provider_id(provider_id: str) -> str:
    """The zone embedded in an AWS (`aws:///us-east-1a/i-0abc`) or GCE (`gce://proj/us-central1-a/vm`) ID."""
    if provider_id.startswith("aws://"):
        parts = provider_id[len("aws://") :].split("/")
        if len(parts) >= 3 and _AWS_REGION.match(parts[1]):
            return parts[1]
    elif provider_id.startswith("gce://"):
        parts = provider_id[len("gce://") :].split("/")
        if len(parts) >= 3:
            return parts[1]
    return ""


def region_from_zone(provider: str, zone: str) -> str:
    """The region of `zone`: `us-east-1a` -> `us-east-1` (aws), `us-central1-a` -> `us-central1` (gcp),
    `eastus-1` -> `eastus` (azure); "" when unknown."""
    pattern = {"aws": _AWS_REGION, "gcp": _GCP_ZONE, "azure": _AZURE_ZONE}.get(provider)
    match = pattern.match(zone) if pattern and zone else None
    return match.group(1) if match else ""


def _placement(labels: Mapping[str, str], provider_id: str, node_info: Mapping[str, Any]) -> dict[str, str]:
    provider = provider_from(provider_id, labels)
    zone = _first_label(labels, ZONE_LABELS) or zone_from_provider_id(provider_id)
    arch = _first_label(labels, ARCH_LABELS) or node_info.get("architecture") or ""
    os = _first_label(labels, OS_LABELS) or node_info.get("operatingSystem") or ""
    return {
        "provider": provider,
        "instance_type": _first_label(labels, INSTANCE_TYPE_LABELS),
        "zone": zone,
        "region": _first_label(labels, REGION_LABELS) or region_from_zone(provider, zone),
        "arch": arch if isinstance(arch, str) else "",
        "os": os if isinstance(os, str) else "",
        "capacity_type": capacity_type_from_labels(labels),
    }


def parse_node(obj: Mapping[str, Any], quantities: QuantityCache | None = None, ordinal: str = "") -> Node:
    """One Node object -> `Node`. Missing `status.allocatable` falls back to `status.capacity`."""
    meta, _, name = identify("Node", obj, ordinal, namespaced=False)
    r = Reader(f"Node {name}", quantities)
    spec = r.mapping(obj, "spec", "")
    status = r.mapping(obj, "status", "")
    labels = r.string_map(meta, "labels", "metadata")
    capacity = r.quantity_map(status, "capacity", "status")
    if status.get("allocatable") is None:
        allocatable = dict(capacity)
    else:
        allocatable = r.quantity_map(status, "allocatable", "status")
    unschedulable = spec.get("unschedulable", False)
    if not isinstance(unschedulable, bool):
        raise r.error("spec.unschedulable", f"expected a boolean, got {unschedulable!r}")
    provider_id = r.string(spec, "providerID", "spec")
    return Node(
        name=name,
        allocatable=Resources(allocatable),
        capacity=Resources(capacity),
        labels=labels,
        taints=parse_taints(r, spec, "spec"),
        unschedulable=unschedulable,
        provider_id=provider_id,
        **_placement(labels, provider_id, r.mapping(status, "nodeInfo", "status")),
    )
