"""`plan_snapshot`: the cheapest verified node set for a snapshot's movable pods, with its lower bound.

Called by `optimizer.report` (savings), the CLI and benchmarks; later by the autoscaler. Pure: the
snapshot, catalog and constraints in, a `Plan` out. Every plan is checked pod by pod with
`scheduling.verify_placement` before it is returned; a pod that would break a rule is reported as
unschedulable with the rule instead of being placed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from kubewise.catalog.types import RegionCatalog
from kubewise.model import Pod, Snapshot
from kubewise.optimizer.candidates import Candidate, CandidateSet, build_candidates
from kubewise.optimizer.construction import build_plan_nodes
from kubewise.optimizer.lower_bound import LowerBound, solve_lower_bound
from kubewise.optimizer.node_labels import default_zones
from kubewise.optimizer.packing import Packer
from kubewise.optimizer.templates import derive_templates, zones_of
from kubewise.optimizer.types import Constraints, Plan, UnschedulablePod
from kubewise.optimizer.workload import PodClass, Workload, split_workload
from kubewise.optimizer.zones import ZoneAssignment, assign_zones
from kubewise.scheduling import static_fit, verify_placement

__all__ = ["plan_snapshot"]


def _why_unplaceable(pod: Pod, cs: CandidateSet, all_candidates: Sequence[Candidate]) -> str:
    """Explain with the largest allowed node of each template, what stops the pod there."""
    if not all_candidates:
        return "no instance type in the catalog matches the plan's constraints"
    largest = max(all_candidates, key=lambda c: (c.itype.gpu, c.itype.memory_mib, c.itype.vcpu, -c.index))
    node = largest.node("new-node", cs.zones[0] if cs.zones else "")
    reason = static_fit(pod, node)
    if reason is None:
        return f"no allowed instance type passes its node selector or affinity in zones {', '.join(cs.zones)}"
    return f"no allowed instance type can run it (largest, {largest.itype.name}: {reason})"


def _placeable_classes(workload: Workload, cs: CandidateSet) -> tuple[list[int], list[UnschedulablePod]]:
    fits = cs.fits
    placeable: list[int] = []
    unplaceable: list[UnschedulablePod] = []
    for cls in workload.classes:
        if len(cs.candidates) and fits[cls.index].any():
            placeable.append(cls.index)
        else:
            reason = _why_unplaceable(cls.example, cs, cs.candidates)
            unplaceable += [UnschedulablePod(p, reason) for p in cls.pods]
    return placeable, unplaceable


def _counts(
    classes: Sequence[PodClass],
    placeable: Sequence[int],
    required: dict[int, list[int | None]],
    exclude: set[int],
) -> list[int]:
    counts = [0] * len(classes)
    for k in placeable:
        pods = classes[k].pods if k not in required else classes[k].pods[: len(required[k])]
        counts[k] = sum(1 for p in pods if id(p) not in exclude)
    return counts


def _repair(packer: Packer, snapshot: Snapshot) -> list[UnschedulablePod]:
    """Take off any pod `verify_placement` objects to (rare: rules the packer only approximates)."""
    removed: list[UnschedulablePod] = []
    for _ in range(3):
        nodes = [packer.state.node(n) for n in packer.nodes]
        placement = {
            n: [*packer.cs.candidates[packer.node_candidate[n]].daemonsets, *packer.nodes[n].pods]
            for n in packer.nodes
        }
        violations = verify_placement(nodes, placement, snapshot.namespace_labels)
        if not violations:
            return removed
        for v in violations:
            pod = next((p for p in packer.nodes[v.node_name].pods if p.key == v.pod_key), None)
            if pod is not None:
                packer.unplace(pod, v.node_name)
                removed.append(UnschedulablePod(pod, f"placing it would break a scheduling rule: {v.reason}"))
    raise RuntimeError("plan verification kept failing; refusing to return an unverified plan")


def plan_snapshot(
    snapshot: Snapshot, catalog: RegionCatalog, constraints: Constraints, name: str = "on-demand"
) -> Plan:
    """Plan new nodes for every movable pod of `snapshot` (DaemonSet pods ride along on each node)."""
    t0 = time.perf_counter()
    workload = split_workload(snapshot)
    if constraints.arch is None and any(n.arch for n in snapshot.nodes):
        # images are only known to run on the architectures the cluster runs today
        constraints = dataclasses.replace(
            constraints, arch=frozenset(n.arch for n in snapshot.nodes if n.arch)
        )
    zones = constraints.zones or zones_of(snapshot.nodes) or default_zones(catalog.provider, catalog.region)
    templates = constraints.templates or derive_templates(snapshot.nodes, workload.movable)
    cs = build_candidates(workload.classes, workload.daemonsets, catalog, constraints, templates, zones)
    t1 = time.perf_counter()
    placeable, unschedulable = _placeable_classes(workload, cs)
    usable: npt.NDArray[np.bool_] = np.asarray((cs.zone_ok & (cs.per_node > 0)[:, :, None]).any(axis=1))
    zone_plan = assign_zones(workload.classes, usable, zones)
    unschedulable += [UnschedulablePod(p, r) for p, r in zone_plan.impossible]
    lb = solve_lower_bound(cs, _counts(workload.classes, placeable, zone_plan.required, set()))
    t2 = time.perf_counter()
    packer, stuck = _construct(workload, cs, snapshot, zone_plan, lb, placeable)
    for pod in stuck:
        unschedulable.append(UnschedulablePod(pod, _why_stuck(packer, pod)))
    unschedulable += _repair(packer, snapshot)
    bound = lb.value
    if len(unschedulable) > len(zone_plan.impossible):  # the bound must cover exactly the placed pods
        left_out = {id(u.pod) for u in unschedulable}
        bound = solve_lower_bound(
            cs, _counts(workload.classes, placeable, zone_plan.required, left_out)
        ).value
    t3 = time.perf_counter()
    nodes = sorted(packer.nodes.values(), key=lambda n: n.name)
    stats = {
        "pods": float(len(workload.movable)),
        "classes": float(len(workload.classes)),
        "candidates": float(len(cs.candidates)),
        "seconds_candidates": t1 - t0,
        "seconds_lower_bound": t2 - t1,
        "seconds_packing": t3 - t2,
        "seconds_total": t3 - t0,
    }
    ds = {n.name: list(cs.candidates[packer.node_candidate[n.name]].daemonsets) for n in nodes}
    unschedulable.sort(key=lambda u: u.pod.key)
    return Plan(name, nodes, unschedulable, bound, ds, stats)


_TRY_BOTH_BELOW_PODS = 400


def _construct(
    workload: Workload,
    cs: CandidateSet,
    snapshot: Snapshot,
    zone_plan: ZoneAssignment,
    lb: LowerBound,
    placeable: Sequence[int],
) -> tuple[Packer, list[Pod]]:
    """LP rounding, and on small inputs also the pure greedy construction; the cheaper one wins."""
    best: tuple[float, int, Packer, list[Pod]] | None = None
    variants = (True, False) if len(workload.movable) < _TRY_BOTH_BELOW_PODS else (True,)
    for attempt, rounding in enumerate(variants):
        packer = Packer(workload.classes, cs, snapshot.namespace_labels)
        stuck = build_plan_nodes(packer, workload.classes, zone_plan, lb, placeable, lp_rounding=rounding)
        cost = sum(n.hourly_price for n in packer.nodes.values())
        key = (len(stuck), cost)
        if best is None or key < (len(best[3]), best[0]):
            best = (cost, attempt, packer, stuck)
    assert best is not None
    return best[2], best[3]


def _why_stuck(packer: Packer, pod: Pod) -> str:
    """Ask the scheduler why the pod does not go onto an empty node of the cheapest fitting candidate."""
    cs = packer.cs
    k = packer.class_of(pod)
    options = np.nonzero(cs.fits[k])[0]
    if not len(options):
        return "no allowed instance type can run it"
    cand = min(options, key=lambda c: cs.candidates[c].price)
    zone = int(np.argmax(cs.zone_ok[k, cand]))
    name = packer.open_node(int(cand), zone)
    reason = packer.state.can_place(pod, name)
    packer.close_node(name)
    return f"no valid placement found: {reason or 'required pod affinity or spread could not be met'}"
