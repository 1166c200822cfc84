"""`plan_snapshot`: the cheapest verified node set for a snapshot's movable pods, with its lower bound.

Called by `optimizer.report` (savings), the CLI and benchmarks; later by the autoscaler. Pure: the
snapshot, catalog and constraints in, a `Plan` out, the same plan for the same input. The steps:
1. pods grouped into classes (`workload`), candidate node kinds with their fit matrices (`candidates`),
   zones fixed for pods whose spread or anti-affinity counts per zone (`zones`);
2. the LP lower bound (`lower_bound`): no valid plan for these pods can cost less;
3. node patterns by column generation, rounded to whole nodes (`column_generation`, `pricing`);
4. each node moved to the cheapest type that holds its pods (`improve`);
5. pods named onto nodes and the placement verified pod by pod by `scheduling.verify_placement`
   (`realize`); a pod that would break a rule is moved or reported unschedulable, never placed.
A `progress` listener hears each stage and how much of the work is done (`optimizer.progress`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from kubewise.catalog.types import RegionCatalog
from kubewise.model import Pod, Snapshot
from kubewise.optimizer.candidates import CandidateSet, build_candidates
from kubewise.optimizer.consolidate import empty_weakest, retype
from kubewise.optimizer.demand import demand_rows
from kubewise.optimizer.lower_bound import WHOLE_POD_ROUNDS, solve_lower_bound
from kubewise.optimizer.node_labels import default_zones
from kubewise.optimizer.node_rules import node_rules
from kubewise.optimizer.nodeset import NodeSet
from kubewise.optimizer.polish import PolishBudget, polish
from kubewise.optimizer.progress import Progress, ignore_progress, part
from kubewise.optimizer.realize import NodeSpec, realize
from kubewise.optimizer.rounding import build_nodes
from kubewise.optimizer.templates import derive_templates, zones_of
from kubewise.optimizer.types import Constraints, Plan, UnschedulablePod
from kubewise.optimizer.workload import Workload, split_workload
from kubewise.optimizer.zones import ZoneAssignment, assign_zones
from kubewise.scheduling import static_fit

__all__ = ["plan_snapshot"]

_EMPTY_TRIES = 200  # nodes the consolidation tries to empty, least worth per price first


def _why_unplaceable(pod: Pod, cs: CandidateSet) -> str:
    """Explain with the largest allowed node what stops the pod there."""
    by_size = lambda c: (c.itype.gpu, c.itype.memory_mib, c.itype.vcpu, -c.index)  # noqa: E731
    largest = max(cs.candidates, key=by_size) if cs.candidates else cs.largest_allowed
    if largest is None:
        return "no instance type in the catalog matches the plan's constraints"
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
            reason = _why_unplaceable(cls.example, cs)
            unplaceable += [UnschedulablePod(p, reason) for p in cls.pods]
    return placeable, unplaceable


def _counts(
    workload: Workload, placeable: Sequence[int], zones: ZoneAssignment, left_out: set[int]
) -> list[int]:
    counts = [0] * len(workload.classes)
    for k in placeable:
        cls = workload.classes[k]
        pods = cls.pods if k not in zones.required else cls.pods[: len(zones.required[k])]
        counts[k] = sum(1 for p in pods if id(p) not in left_out)
    return counts


def _specs(ns: NodeSet) -> list[NodeSpec]:
    out = []
    for i in ns.live.tolist():
        rows = np.array(sorted(ns.contents[i]), dtype=np.int64)
        counts = np.array([ns.contents[i][r] for r in rows.tolist()], dtype=np.int64)
        out.append(NodeSpec(int(ns.cand[i]), int(ns.zone[i]), rows, counts))
    return out


def _arch_default(snapshot: Snapshot, constraints: Constraints) -> Constraints:
    if constraints.arch is None and any(n.arch for n in snapshot.nodes):
        # images are only known to run on the architectures the cluster runs today
        return dataclasses.replace(constraints, arch=frozenset(n.arch for n in snapshot.nodes if n.arch))
    return constraints


def plan_snapshot(
    snapshot: Snapshot,
    catalog: RegionCatalog,
    constraints: Constraints,
    name: str = "on-demand",
    progress: Progress = ignore_progress,
) -> Plan:
    """Plan new nodes for every movable pod of `snapshot` (DaemonSet pods ride along on each node)."""
    clock = [time.perf_counter()]  # stage timings for the stats only; nothing depends on them
    progress(0.0, "grouping pods and node types")
    workload = split_workload(snapshot)
    constraints = _arch_default(snapshot, constraints)
    zones = constraints.zones or zones_of(snapshot.nodes) or default_zones(catalog.provider, catalog.region)
    templates = constraints.templates or derive_templates(snapshot.nodes, workload.movable)
    cs = build_candidates(workload.classes, workload.daemonsets, catalog, constraints, templates, zones)
    placeable, unschedulable = _placeable_classes(workload, cs)
    usable: npt.NDArray[np.bool_] = np.asarray((cs.zone_ok & (cs.per_node > 0)[:, :, None]).any(axis=1))
    zone_plan = assign_zones(workload.classes, usable, zones)
    reported = {id(u.pod) for u in unschedulable}  # classes no candidate runs are already explained
    unschedulable += [UnschedulablePod(p, r) for p, r in zone_plan.impossible if id(p) not in reported]
    clock.append(time.perf_counter())
    progress(0.02, "solving the lower bound")
    lb = solve_lower_bound(cs, _counts(workload, placeable, zone_plan, set()), WHOLE_POD_ROUNDS)
    clock.append(time.perf_counter())
    progress(0.06, "building nodes")
    rows = demand_rows(workload.classes, placeable, zone_plan, cs)
    prices = np.array([c.price for c in cs.candidates], dtype=float)
    ns = NodeSet(cs, rows, node_rules(workload.classes, snapshot.namespace_labels))
    resolve = lambda counts: solve_lower_bound(cs, counts)  # noqa: E731
    build_nodes(ns, lb, resolve, prices)
    cost_built = ns.price(prices)
    retype(ns, prices)
    removed = empty_weakest(ns, prices, lb.pod_value, _EMPTY_TRIES)
    cost_consolidated = ns.price(prices)
    ns, polished = polish(ns, lb, prices, resolve, PolishBudget(), part(progress, 0.12, 0.97))
    specs = _specs(ns)
    clock.append(time.perf_counter())
    progress(0.97, "verifying every pod's placement")
    class_of = {id(p): cls.index for cls in workload.classes for p in cls.pods}
    done = realize(cs, rows, specs, class_of, snapshot.namespace_labels)
    bound = lb.value
    if done.unschedulable:  # the bound must cover exactly the placed pods
        progress(0.99, "solving the lower bound for the placed pods")
        left_out = {id(u.pod) for u in done.unschedulable}
        counts = _counts(workload, placeable, zone_plan, left_out)
        bound = solve_lower_bound(cs, counts, WHOLE_POD_ROUNDS).value
    unschedulable += done.unschedulable
    clock.append(time.perf_counter())
    nodes = sorted(done.nodes, key=lambda n: n.name)
    stats = {
        "pods": float(len(workload.movable)),
        "classes": float(len(workload.classes)),
        "candidates": float(len(cs.candidates)),
        "rows": float(len(rows)),
        "cost_built": cost_built,
        "nodes_emptied": float(removed),
        "cost_consolidated": cost_consolidated,
        "pattern_lp": polished.lp_value,
        "pricing_rounds": float(polished.pricing_rounds),
        "seconds_candidates": clock[1] - clock[0],
        "seconds_lower_bound": clock[2] - clock[1],
        "seconds_nodes": clock[3] - clock[2],
        "seconds_verify": clock[4] - clock[3],
        "seconds_total": clock[4] - clock[0],
    }
    ds = {n.name: list(cs.candidates[done.candidate_of[n.name]].daemonsets) for n in nodes}
    unschedulable.sort(key=lambda u: u.pod.key)
    progress(1.0, "done")
    return Plan(name, nodes, unschedulable, bound, ds, stats)
