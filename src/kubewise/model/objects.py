"""Pods, nodes, PDBs and the cluster snapshot: the plain data every core package works on.

Built by `model.loading` (kubectl JSON) and by the agent; read by `scheduling`, `optimizer`,
and the CLI. Frozen dataclasses so that they can be shared and hashed safely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubewise.model.resources import Resources
from kubewise.model.selectors import LabelSelector, NodeSelectorTerm, Taint, Toleration

__all__ = [
    "CAPACITY_ON_DEMAND",
    "CAPACITY_SPOT",
    "Node",
    "OwnerKind",
    "Pod",
    "PodAffinityTerm",
    "PodDisruptionBudget",
    "Snapshot",
    "TopologySpreadConstraint",
]

CAPACITY_SPOT = "spot"
CAPACITY_ON_DEMAND = "on-demand"


class OwnerKind:
    """The controller kinds that matter to planning (resolved through ReplicaSet -> Deployment)."""

    DAEMONSET = "DaemonSet"
    REPLICASET = "ReplicaSet"
    DEPLOYMENT = "Deployment"
    STATEFULSET = "StatefulSet"
    JOB = "Job"
    NODE = "Node"  # static (mirror) pods are owned by their node
    NONE = ""  # a bare pod with no controller


@dataclass(frozen=True, slots=True)
class PodAffinityTerm:
    """A required (anti-)affinity term: pods matching `selector` in `namespaces` within `topology_key`.

    `namespaces` empty and `namespace_selector` None means "the pod's own namespace".
    """

    selector: LabelSelector
    topology_key: str
    namespaces: tuple[str, ...] = ()
    namespace_selector: LabelSelector | None = None


@dataclass(frozen=True, slots=True)
class TopologySpreadConstraint:
    max_skew: int
    topology_key: str
    when_unsatisfiable: str  # DoNotSchedule | ScheduleAnyway
    selector: LabelSelector
    min_domains: int | None = None
    node_affinity_policy: str = "Honor"  # Honor | Ignore
    node_taints_policy: str = "Ignore"  # Honor | Ignore
    match_label_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod as the scheduler sees it (not hashable: mapping fields).

    `requests` are the effective (scheduler) requests, overhead included.
    """

    namespace: str
    name: str
    requests: Resources
    labels: Mapping[str, str] = field(default_factory=dict)
    node_name: str = ""
    phase: str = "Pending"
    owner_kind: str = OwnerKind.NONE
    owner_name: str = ""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    node_affinity: tuple[NodeSelectorTerm, ...] = ()  # requiredDuringScheduling..., terms ORed
    tolerations: tuple[Toleration, ...] = ()
    pod_affinity: tuple[PodAffinityTerm, ...] = ()  # required only
    pod_anti_affinity: tuple[PodAffinityTerm, ...] = ()  # required only
    topology_spread: tuple[TopologySpreadConstraint, ...] = ()
    priority: int = 0
    has_local_storage: bool = False  # emptyDir / hostPath volumes
    uid: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """`namespace/name`, the pod's identity in reports."""
        return f"{self.namespace}/{self.name}"

    @property
    def is_daemonset(self) -> bool:
        return self.owner_kind == OwnerKind.DAEMONSET

    @property
    def is_mirror(self) -> bool:
        return self.owner_kind == OwnerKind.NODE

    @property
    def is_terminal(self) -> bool:
        return self.phase in ("Succeeded", "Failed")


@dataclass(frozen=True, slots=True)
class Node:
    """A node. `allocatable` is what pods may request; labels keep every label the node has."""

    name: str
    allocatable: Resources
    capacity: Resources
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False
    provider_id: str = ""
    provider: str = ""  # aws | gcp | azure | "" when unknown
    instance_type: str = ""
    region: str = ""
    zone: str = ""
    arch: str = ""
    os: str = ""
    capacity_type: str = CAPACITY_ON_DEMAND  # spot | on-demand


@dataclass(frozen=True, slots=True)
class PodDisruptionBudget:
    namespace: str
    name: str
    selector: LabelSelector
    min_available: int | str | None = None  # int or percentage string "50%"
    max_unavailable: int | str | None = None
    disruptions_allowed: int | None = None  # from status, when known

    def covers(self, pod: Pod) -> bool:
        """A PDB selects pods in its own namespace. In policy/v1 an empty selector (`{}`) selects every pod
        there; a null one selects none, which the loader stores as `kube_selectors.MATCH_NOTHING`."""
        return pod.namespace == self.namespace and self.selector.matches(pod.labels)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the planners need about one cluster at one time."""

    nodes: tuple[Node, ...] = ()
    pods: tuple[Pod, ...] = ()
    pdbs: tuple[PodDisruptionBudget, ...] = ()
    namespace_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def active_pods(self) -> tuple[Pod, ...]:
        """Pods that hold or want resources: terminal (Succeeded/Failed) pods are ignored."""
        return tuple(p for p in self.pods if not p.is_terminal)
