"""The kube-scheduler's filters as pure Python: does this pod fit this (real or planned) node?

Used by the optimizer (candidate nodes, packing, plan verification) and later the autoscaler, as the
one fit logic of kubewise. `predicates` holds the node-level filters, `state.ClusterState` the
placement-dependent ones (resources, topology spread, inter-pod affinity), `verify.verify_placement`
checks a finished placement pod by pod, and `daemonsets` says which DaemonSet pods a node must carry.
"""

from kubewise.scheduling.daemonsets import (
    daemonset_pods_for,
    daemonset_requests,
    runs_daemonset_pod,
    unbind_daemonset_pod,
)
from kubewise.scheduling.predicates import (
    UNSCHEDULABLE_TAINT,
    insufficient_resources,
    matches_node_affinity,
    matches_node_selector,
    node_predicate_failure,
    static_fit,
    tolerates,
    toleration_tolerates,
    untolerated_taint,
)
from kubewise.scheduling.state import ClusterState
from kubewise.scheduling.verify import Violation, verify_placement

__all__ = [
    "UNSCHEDULABLE_TAINT",
    "ClusterState",
    "Violation",
    "daemonset_pods_for",
    "daemonset_requests",
    "insufficient_resources",
    "matches_node_affinity",
    "matches_node_selector",
    "node_predicate_failure",
    "runs_daemonset_pod",
    "static_fit",
    "tolerates",
    "toleration_tolerates",
    "unbind_daemonset_pod",
    "untolerated_taint",
    "verify_placement",
]
