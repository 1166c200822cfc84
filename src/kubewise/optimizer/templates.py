"""Node templates (pools) derived from the current nodes, and the zones a plan may use.

Called by `optimizer.planner` when the constraints do not name templates or zones. A template keeps the
labels that pods select on and that Kubernetes or the cloud would not put on a new node by themselves
(e.g. `workload=batch`), plus the node's taints, so pods pinned to a pool still have somewhere to go.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubewise.model import Node, Pod, Taint
from kubewise.optimizer.node_labels import is_well_known
from kubewise.optimizer.types import NodeTemplate

__all__ = ["derive_templates", "zones_of"]

_POOL_LABELS = (
    "eks.amazonaws.com/nodegroup",
    "karpenter.sh/nodepool",
    "cloud.google.com/gke-nodepool",
    "kubernetes.azure.com/agentpool",
    "kops.k8s.io/instancegroup",
    "alpha.eksctl.io/nodegroup-name",
)
_LIFECYCLE_TAINT_PREFIXES = (
    "node.kubernetes.io/",
    "node.cloudprovider.kubernetes.io/",
    "karpenter.sh/",
    "ToBeDeletedByClusterAutoscaler",
    "DeletionCandidateOfClusterAutoscaler",
)


def _selected_keys(pods: Sequence[Pod]) -> set[str]:
    keys: set[str] = set()
    for pod in pods:
        keys.update(pod.node_selector)
        for term in pod.node_affinity:
            keys.update(r.key for r in term.match_expressions)
    return {k for k in keys if not is_well_known(k)}


def _pool_taints(node: Node) -> tuple[Taint, ...]:
    return tuple(
        t
        for t in node.taints
        if not t.key.startswith(_LIFECYCLE_TAINT_PREFIXES) and t.effect in ("NoSchedule", "NoExecute")
    )


def derive_templates(nodes: Sequence[Node], pods: Sequence[Pod]) -> tuple[NodeTemplate, ...]:
    """The default (no labels, no taints) template plus one per distinct pool of the current nodes."""
    keys = _selected_keys(pods)
    found: dict[tuple[object, ...], NodeTemplate] = {}
    for node in sorted(nodes, key=lambda n: n.name):
        labels = tuple(sorted((k, v) for k, v in node.labels.items() if k in keys))
        taints = tuple(sorted(_pool_taints(node), key=lambda t: (t.key, t.value, t.effect)))
        if not labels and not taints:
            continue
        sig = (labels, taints)
        if sig not in found:
            pool = next((node.labels[k] for k in _POOL_LABELS if k in node.labels), f"pool-{len(found) + 1}")
            found[sig] = NodeTemplate(pool, labels, taints)
    return (NodeTemplate(), *found.values())


def zones_of(nodes: Sequence[Node]) -> tuple[str, ...]:
    return tuple(sorted({n.zone for n in nodes if n.zone}))
