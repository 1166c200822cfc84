"""First-fit-decreasing baseline: how the common autoscalers pick nodes, to compare the planner against.

Called by `benchmarks.quality`, side by side with `kubewise.optimizer.plan_snapshot` on the same snapshot.
The rule, as node-group autoscalers apply it:
- ONE instance type for the ordinary pods: the cheapest per unit of resource, price / (vCPU + memory GiB / 4),
  among the non-GPU types that can run every ordinary pod (checked with `kubewise.scheduling.static_fit`
  on a hypothetical node of that type, whose allocatable comes from `kubewise.catalog.allocatable`, minus
  the DaemonSet pods that would run there); GPU pods get their own type, the cheapest per GPU that runs
  all of them;
- pods sorted by decreasing max(cpu share, memory share) of that type, then first fit into the open nodes,
  opening a new node when none has room; required pod anti-affinity per hostname is respected; zone
  topology spread is not (which can only make the baseline cheaper than a valid plan).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kubewise.catalog.allocatable import node_allocatable
from kubewise.catalog.types import InstanceType, RegionCatalog
from kubewise.model import CAPACITY_ON_DEMAND, CPU, GPU_NVIDIA, MEMORY, Node, Pod, Resources, Snapshot
from kubewise.optimizer.node_labels import HOSTNAME_KEY, ZONE_KEYS, new_node_labels
from kubewise.optimizer.workload import group_classes, split_workload
from kubewise.scheduling import static_fit

__all__ = ["BaselinePlan", "plan_ffd"]

GIB = 1024**3


@dataclass
class BaselinePlan:
    """The baseline's node set: count per instance type, hourly cost, pods it could not place."""

    nodes_by_type: dict[str, int] = field(default_factory=dict)
    hourly_cost: float = 0.0
    unplaced: list[Pod] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def node_count(self) -> int:
        return sum(self.nodes_by_type.values())


def _hypothetical_node(itype: InstanceType, capacity_type: str) -> Node:
    zone = f"{itype.region}a"
    name = f"ffd-{itype.name}"
    labels = {**new_node_labels(itype, capacity_type), HOSTNAME_KEY: name, **dict.fromkeys(ZONE_KEYS, zone)}
    allocatable = node_allocatable(itype)
    return Node(
        name=name,
        allocatable=allocatable,
        capacity=allocatable,
        labels=labels,
        provider=itype.provider,
        instance_type=itype.name,
        region=itype.region,
        zone=zone,
        arch=itype.arch,
        os="linux",
        capacity_type=capacity_type,
    )


def _room(itype: InstanceType, daemonsets: Sequence[Pod], capacity_type: str) -> tuple[Node, Resources]:
    """A hypothetical node of `itype` and what is left on it once its DaemonSet pods run."""
    node = _hypothetical_node(itype, capacity_type)
    room = node.allocatable
    for ds in daemonsets:
        if static_fit(ds, node) is None:
            room = room - ds.requests
    return node, room


def _runs_all(
    itype: InstanceType, shapes: Sequence[Pod], daemonsets: Sequence[Pod], capacity_type: str
) -> bool:
    node, room = _room(itype, daemonsets, capacity_type)
    if any(v < 0 for v in room.values()):
        return False
    return all(p.requests.fits_in(room) and static_fit(p, node) is None for p in shapes)


def _pick_type(
    pods: Sequence[Pod],
    types: Sequence[InstanceType],
    daemonsets: Sequence[Pod],
    capacity_type: str,
    gpu: bool,
) -> InstanceType | None:
    """The cheapest type (per normalized resource, or per GPU) that can run every pod of `pods`."""
    shapes = [cls.example for cls in group_classes(pods)]
    # biggest shapes first so that most types are rejected on their first check
    shapes.sort(key=lambda p: (p.requests[GPU_NVIDIA], p.requests[CPU], p.requests[MEMORY]), reverse=True)

    def unit_price(t: InstanceType) -> float:
        price = t.price(capacity_type) or 0.0
        return price / t.gpu if gpu else price / (t.vcpu + t.memory_mib / 1024 / 4)

    for t in sorted(types, key=lambda t: (unit_price(t), t.name)):
        if _runs_all(t, shapes, daemonsets, capacity_type):
            return t
    return None


def _conflicts(pod: Pod, others: Sequence[Pod]) -> bool:
    """Required hostname anti-affinity, both ways (the incoming pod's terms and the placed pods' terms)."""
    for other in others:
        if other.namespace != pod.namespace:
            continue
        for term in pod.pod_anti_affinity:
            if term.topology_key == HOSTNAME_KEY and term.selector.matches(other.labels):
                return True
        for term in other.pod_anti_affinity:
            if term.topology_key == HOSTNAME_KEY and term.selector.matches(pod.labels):
                return True
    return False


def _first_fit(pods: Sequence[Pod], room: Mapping[str, int]) -> list[list[Pod]]:
    """First-fit decreasing into identical nodes with `room` free each; returns the pods per node."""
    cpu, mem = max(room.get(CPU, 0), 1), max(room.get(MEMORY, 0), 1)
    order = sorted(pods, key=lambda p: (-max(p.requests[CPU] / cpu, p.requests[MEMORY] / mem), p.key))
    free: list[dict[str, int]] = []
    placed: list[list[Pod]] = []
    has_anti: list[bool] = []
    for pod in order:
        req = pod.requests
        for i, left in enumerate(free):
            if all(v <= left.get(k, 0) for k, v in req.items()) and not (
                (pod.pod_anti_affinity or has_anti[i]) and _conflicts(pod, placed[i])
            ):
                break
        else:
            free.append(dict(room))
            placed.append([])
            has_anti.append(False)
            i = len(free) - 1
        for k, v in req.items():
            free[i][k] = free[i].get(k, 0) - v
        placed[i].append(pod)
        has_anti[i] = has_anti[i] or bool(pod.pod_anti_affinity)
    return placed


def plan_ffd(
    snapshot: Snapshot, catalog: RegionCatalog, capacity_type: str = CAPACITY_ON_DEMAND
) -> BaselinePlan:
    """Place every movable pod of `snapshot` the way a single-instance-type autoscaler would."""
    start = time.perf_counter()
    workload = split_workload(snapshot)
    offered = [t for t in catalog if t.price(capacity_type) is not None]
    plan = BaselinePlan()
    groups = (
        (
            [p for p in workload.movable if not p.requests[GPU_NVIDIA]],
            [t for t in offered if not t.gpu],
            False,
        ),
        ([p for p in workload.movable if p.requests[GPU_NVIDIA]], [t for t in offered if t.gpu], True),
    )
    for pods, types, gpu in groups:
        if not pods:
            continue
        itype = _pick_type(pods, types, workload.daemonsets, capacity_type, gpu)
        if itype is None:
            plan.unplaced += pods
            continue
        _, room = _room(itype, workload.daemonsets, capacity_type)
        nodes = _first_fit(pods, room)
        plan.nodes_by_type[itype.name] = plan.nodes_by_type.get(itype.name, 0) + len(nodes)
        plan.hourly_cost += len(nodes) * (itype.price(capacity_type) or 0.0)
    plan.seconds = time.perf_counter() - start
    return plan
