"""A plan's node as the Kubernetes node it would become: labels, taints, allocatable.

Used by the autoscaler to check planned nodes against the cluster's existing pods with the scheduling
module (zone spread and anti-affinity across old and new nodes), the same way candidates are built.
"""

from __future__ import annotations

from kubewise.catalog.allocatable import node_allocatable
from kubewise.model import Node
from kubewise.optimizer.node_labels import HOSTNAME_KEY, ZONE_KEYS, new_node_labels
from kubewise.optimizer.types import PlannedNode

__all__ = ["planned_node_object"]


def planned_node_object(planned: PlannedNode, name: str) -> Node:
    itype = planned.instance_type
    labels = new_node_labels(itype, planned.capacity_type) | dict(planned.template.labels)
    labels[HOSTNAME_KEY] = name
    for key in ZONE_KEYS:
        labels[key] = planned.zone
    allocatable = node_allocatable(itype)
    return Node(
        name=name,
        allocatable=allocatable,
        capacity=allocatable,
        labels=labels,
        taints=planned.template.taints,
        provider=itype.provider,
        instance_type=itype.name,
        region=itype.region,
        zone=planned.zone,
        arch=itype.arch,
        os="linux",
        capacity_type=planned.capacity_type,
    )
