"""Which DaemonSet pods a (real or planned) node must carry, as the DaemonSet controller decides.

For the planners (optimizer, later the autoscaler): every new node also runs one pod of each DaemonSet
whose pods it admits, and those requests come off its allocatable before any workload pod fits.

Upstream (pkg/controller/daemon `NodeShouldRunDaemonPod` -> `predicates`): a DaemonSet runs on a node
when the pod's nodeSelector and required node affinity match the node and the pod tolerates the node's
NoSchedule/NoExecute taints. Unlike the scheduler it ignores `spec.unschedulable` (DaemonSet pods
tolerate `node.kubernetes.io/unschedulable`) and does not check resources: a node too small for its
DaemonSets is simply over-committed, which callers detect by comparing `daemonset_requests` with the
node's allocatable.

DaemonSet pods read from a cluster are pinned to their node: the controller replaces the template's
required node-affinity terms by a single term `matchFields metadata.name In [<node>]`
(`ReplaceDaemonSetPodNodeNameNodeAffinity` in pkg/controller/daemon/util). `unbind_daemonset_pod` drops
that pin so that a running pod can stand for its DaemonSet on a node that does not exist yet. The
template's own required node affinity is lost with the replacement and cannot be recovered from the
pod, so the answer for an unbound pod rests on its nodeSelector and tolerations only: a DaemonSet that
used node affinity to skip some nodes is counted on them too (conservative: more overhead, never less).
Pure functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from kubewise.model import Node, Pod, Resources
from kubewise.scheduling.predicates import matches_node_affinity, matches_node_selector, tolerates

__all__ = ["daemonset_pods_for", "daemonset_requests", "runs_daemonset_pod", "unbind_daemonset_pod"]

_NODE_NAME_FIELD = "metadata.name"


def unbind_daemonset_pod(pod: Pod) -> Pod:
    """`pod` without its node binding: no node name, no `metadata.name` node-affinity pin.

    A term pinning `metadata.name` is the controller's (it replaced every template term with it) and is
    dropped whole; other terms (a template pod that was never bound) are kept as they are.
    """
    terms = tuple(
        term for term in pod.node_affinity if not any(r.key == _NODE_NAME_FIELD for r in term.match_fields)
    )
    return dataclasses.replace(pod, node_affinity=terms, node_name="")


def runs_daemonset_pod(pod: Pod, node: Node) -> bool:
    """Would the DaemonSet of `pod` (an unbound template pod) run a pod on `node`?"""
    return (
        matches_node_selector(pod, node.labels)
        and matches_node_affinity(pod, node.labels, node.name)
        and tolerates(pod, node.taints)
    )


def daemonset_pods_for(node: Node, daemonset_pods: Iterable[Pod]) -> list[Pod]:
    """The DaemonSet pods (one unbound pod per DaemonSet) that `node` would carry, in input order."""
    return [pod for pod in daemonset_pods if runs_daemonset_pod(pod, node)]


def daemonset_requests(pods: Sequence[Pod]) -> Resources:
    """The summed requests of `pods` (incl. one `pods` slot each): what they take from a node."""
    total = Resources()
    for pod in pods:
        total = total + pod.requests
    return total
