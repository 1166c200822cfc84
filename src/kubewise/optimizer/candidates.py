"""Candidate new nodes (template x instance type x capacity type) and which pod classes each can run.

Called by `optimizer.planner`. Fit is decided by `kubewise.scheduling` (node selector, node affinity,
taints) on hypothetical nodes, once per group of classes with the same node constraints; resources
are compared as integer vectors with NumPy. Dominated candidates (another one passes a superset of the
predicates, has at least as much room and costs no more) are dropped before any class x candidate
matrix is built, which keeps the lower bound valid and the matrices small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubewise.catalog.allocatable import node_allocatable
from kubewise.catalog.types import InstanceType, RegionCatalog
from kubewise.model import PODS, Node, Pod, Resources
from kubewise.optimizer.node_labels import HOSTNAME_KEY, ZONE_KEYS, new_node_labels
from kubewise.optimizer.types import Constraints, NodeTemplate
from kubewise.optimizer.workload import PodClass
from kubewise.scheduling import matches_node_affinity, matches_node_selector, tolerates

__all__ = ["Candidate", "CandidateSet", "build_candidates", "share_matrix"]

IntMatrix = npt.NDArray[np.int64]


@dataclass(slots=True)
class Candidate:
    """A kind of node the plan may create. `room` = allocatable minus the DaemonSet pods it would run."""

    index: int
    template: NodeTemplate
    itype: InstanceType
    capacity_type: str
    price: float
    labels: dict[str, str]
    allocatable: Resources
    daemonsets: list[Pod]

    def node(self, name: str, zone: str) -> Node:
        labels = dict(self.labels)
        labels[HOSTNAME_KEY] = name
        for key in ZONE_KEYS:
            labels[key] = zone
        return Node(
            name=name,
            allocatable=self.allocatable,
            capacity=self.allocatable,
            labels=labels,
            taints=self.template.taints,
            provider=self.itype.provider,
            instance_type=self.itype.name,
            region=self.itype.region,
            zone=zone,
            arch=self.itype.arch,
            os="linux",
            capacity_type=self.capacity_type,
        )


@dataclass(slots=True)
class CandidateSet:
    """Candidates with the class x candidate matrices the lower bound and the packer share."""

    candidates: list[Candidate]
    resources: list[str]  # the resource dimensions of `room` and `demand`
    room: IntMatrix  # candidates x resources, allocatable minus DaemonSet requests
    demand: IntMatrix  # classes x resources, one pod's requests
    zone_ok: npt.NDArray[np.bool_]  # classes x candidates x zones: node predicates pass
    per_node: IntMatrix  # classes x candidates: most pods of the class an empty node holds (0 = no fit)
    zones: tuple[str, ...]
    one_per_node: npt.NDArray[np.bool_]  # classes: required anti-affinity on the hostname against itself
    largest_allowed: Candidate | None = None  # before dropping those no pod fits: to explain why

    @property
    def fits(self) -> npt.NDArray[np.bool_]:
        """classes x candidates: some zone passes the predicates and at least one pod fits."""
        return self.zone_ok.any(axis=2) & (self.per_node > 0)


def _referenced_keys(pod: Pod) -> tuple[str, ...]:
    keys = set(pod.node_selector)
    for term in pod.node_affinity:
        keys.update(r.key for r in term.match_expressions)
        if term.match_fields:
            keys.add(HOSTNAME_KEY)  # matchFields metadata.name pins the pod to an existing node
    return tuple(sorted(keys))


def _predicates_pass(pod: Pod, node: Node) -> bool:
    return (
        matches_node_selector(pod, node.labels)
        and matches_node_affinity(pod, node.labels, node.name)
        and tolerates(pod, node.taints)
    )


def _constraint_groups(classes: Sequence[PodClass]) -> tuple[list[Pod], npt.NDArray[np.int64]]:
    """Classes with the same node selector, node affinity and tolerations pass the same node predicates:
    one example pod per such group, and each class's group."""
    examples: list[Pod] = []
    seen: dict[tuple[object, ...], int] = {}
    group = np.zeros(len(classes), dtype=np.int64)
    for cls in classes:
        p = cls.example
        key = (tuple(sorted(p.node_selector.items())), p.node_affinity, p.tolerations)
        if key not in seen:
            seen[key] = len(examples)
            examples.append(p)
        group[cls.index] = seen[key]
    return examples, group


def _predicate_matrix(
    examples: Sequence[Pod], candidates: Sequence[Candidate], zones: Sequence[str]
) -> npt.NDArray[np.bool_]:
    """groups x candidates x zones, evaluated once per distinct (group, label projection)."""
    out = np.zeros((len(examples), len(candidates), len(zones)), dtype=bool)
    for g, pod in enumerate(examples):
        keys = _referenced_keys(pod)
        cache: dict[tuple[object, ...], bool] = {}
        row = out[g]
        for c in candidates:
            for z, zone in enumerate(zones):
                proj = (c.template.name, *(zone if k in ZONE_KEYS else c.labels.get(k) for k in keys))
                ok = cache.get(proj)
                if ok is None:
                    ok = cache[proj] = _predicates_pass(pod, c.node("kubewise-new-node", zone))
                row[c.index, z] = ok
    return out


def _daemonsets_for(
    template: NodeTemplate,
    itype: InstanceType,
    capacity_type: str,
    labels: dict[str, str],
    zones: Sequence[str],
    daemonsets: Sequence[Pod],
) -> list[Pod]:
    """DaemonSet pods that a node of this kind would run (in any zone: the conservative choice)."""
    probe = Candidate(-1, template, itype, capacity_type, 0.0, labels, Resources(), [])
    return [ds for ds in daemonsets if any(_predicates_pass(ds, probe.node("probe", z)) for z in zones)]


def _make_candidates(
    catalog: RegionCatalog,
    constraints: Constraints,
    templates: Sequence[NodeTemplate],
    zones: Sequence[str],
    daemonsets: Sequence[Pod],
) -> list[Candidate]:
    types = catalog.filter(
        families=constraints.families,
        exclude_families=constraints.exclude_families,
        arch=constraints.arch,
        gpu=None if constraints.allow_gpu else False,
        min_vcpu=constraints.min_vcpu,
        max_vcpu=constraints.max_vcpu,
        min_memory_mib=constraints.min_memory_mib,
        max_memory_mib=constraints.max_memory_mib,
    )
    out: list[Candidate] = []
    for template in templates:
        for capacity_type in constraints.capacity_types:
            for itype in types:
                price = itype.price(capacity_type)
                if (
                    price is None
                    or price <= 0
                    or (itype.name, capacity_type) in constraints.exclude_offerings
                ):
                    continue
                labels = new_node_labels(itype, capacity_type) | dict(template.labels)
                ds = _daemonsets_for(template, itype, capacity_type, labels, zones, daemonsets)
                out.append(
                    Candidate(
                        len(out), template, itype, capacity_type, price, labels, node_allocatable(itype), ds
                    )
                )
    return out


def _per_node(demand: IntMatrix, room: IntMatrix) -> IntMatrix:
    """Pods of each class an empty node of each candidate holds: min over resources of room // demand."""
    big = np.iinfo(np.int64).max // 4
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand[:, None, :] > 0, room[None, :, :] // np.maximum(demand[:, None, :], 1), big)
    counts = ratio.min(axis=2)
    counts[:, (room < 0).any(axis=1)] = 0  # DaemonSets alone overflow the node
    out: IntMatrix = np.maximum(counts, 0).astype(np.int64)
    return out


def _limit_per_node(classes: Sequence[PodClass], per_node: IntMatrix) -> npt.NDArray[np.bool_]:
    """Required self anti-affinity on the hostname allows one pod of the class per node."""
    one = np.zeros(len(classes), dtype=bool)
    for cls in classes:
        pod = cls.example
        if any(
            t.topology_key == HOSTNAME_KEY and t.selector.matches(pod.labels) for t in pod.pod_anti_affinity
        ):
            np.minimum(per_node[cls.index], 1, out=per_node[cls.index])
            one[cls.index] = True
    return one


def _undominated(
    prices: npt.NDArray[np.float64], room: IntMatrix, predicates: npt.NDArray[np.bool_]
) -> list[int]:
    """Candidates no other one beats: another with no higher price, at least as much room (so at least
    as many pods of every class per node) and every (group, zone) predicate this one passes. Among
    equals the first in (price, larger room, index) order stays. Dropping the others keeps the lower
    bound valid and loses no plan: each pod placement on them works on the other as well."""
    n = len(prices)
    if not n:
        return []
    passes = predicates.transpose(1, 0, 2).reshape(n, -1)  # candidates x (group, zone)
    order = sorted(range(n), key=lambda i: (prices[i], -int(room[i].sum()), i))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    kept: list[int] = []
    for i in order:
        if not passes[i].any():
            continue
        if kept:
            k = np.array(kept)
            beats = (room[k] >= room[i]).all(axis=1) & (passes[k] >= passes[i]).all(axis=1)
            if beats.any():
                continue
        kept.append(i)
    return sorted(kept)


def build_candidates(
    classes: Sequence[PodClass],
    daemonsets: Sequence[Pod],
    catalog: RegionCatalog,
    constraints: Constraints,
    templates: Sequence[NodeTemplate],
    zones: Sequence[str],
) -> CandidateSet:
    """All allowed candidates with their fit matrices, dominated candidates removed."""
    candidates = _make_candidates(catalog, constraints, templates, zones, daemonsets)
    names = sorted(
        {PODS}  # every pod takes one of a node's pod slots, whatever it requests
        | {r for cls in classes for r in cls.example.requests}
        | {r for c in candidates for ds in c.daemonsets for r in ds.requests}
    )
    room = np.array(
        [[c.allocatable[r] - sum(ds.requests[r] for ds in c.daemonsets) for r in names] for c in candidates],
        dtype=np.int64,
    ).reshape(len(candidates), len(names))
    demand = np.array([[cls.example.requests[r] for r in names] for cls in classes], dtype=np.int64).reshape(
        len(classes), len(names)
    )
    demand[:, names.index(PODS)] = np.maximum(demand[:, names.index(PODS)], 1)
    examples, group = _constraint_groups(classes)
    predicates = _predicate_matrix(examples, candidates, zones)
    prices = np.array([c.price for c in candidates], dtype=float)
    kept = _undominated(prices, room, predicates)
    per_node = _per_node(demand, room[kept])
    one_per_node = _limit_per_node(classes, per_node)
    zone_ok = predicates[group][:, kept, :]
    runs = np.asarray((zone_ok.any(axis=2) & (per_node > 0)).any(axis=0), dtype=bool)
    kept = [c for c, used in zip(kept, list(runs), strict=True) if used]  # no class fits: no use
    cands = [candidates[i] for i in kept]
    for new_index, c in enumerate(cands):
        c.index = new_index
    keep = np.nonzero(runs)[0]
    largest = max(candidates, key=_size_order, default=None)
    return CandidateSet(
        cands,
        names,
        room[kept],
        demand,
        zone_ok[:, keep, :],
        per_node[:, keep],
        tuple(zones),
        one_per_node,
        largest,
    )


def _size_order(c: Candidate) -> tuple[int, int, int, int]:
    return (c.itype.memory_mib, c.itype.vcpu, c.itype.gpu, -c.index)


def share_matrix(cs: CandidateSet) -> npt.NDArray[np.float64]:
    """classes x candidates x resources: the share of an empty node's room one pod of the class takes."""
    out: npt.NDArray[np.float64] = cs.demand[:, None, :] / np.maximum(cs.room, 1)[None, :, :]
    return out
