"""Builds a plan's nodes: LP rounding, then leftovers and under-filled nodes, then downsizing.

Called by `optimizer.planner` with a `Packer`. The steps, in order:
1. round the LP's pods-per-candidate to integers and fill nodes of each candidate with them;
2. dissolve nodes that ended up under-filled (typically the last node of each candidate);
3. put leftover pods into free space on existing nodes (best fit);
4. open new nodes for what is left, each time the candidate and zone that place the most LP value per
   dollar (the LP's dual prices say what a pod of each class is worth);
5. move every node to the cheapest candidate that still holds its pods.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from kubewise.model import Pod
from kubewise.optimizer.lower_bound import LowerBound
from kubewise.optimizer.packing import Packer, Pool
from kubewise.optimizer.workload import PodClass
from kubewise.optimizer.zones import ZoneAssignment

__all__ = ["build_plan_nodes"]

_UNDERFILLED = 0.75


def _round_assignment(y: npt.NDArray[np.float64], count: int) -> list[tuple[int, int]]:
    """Integer pods per candidate summing to `count`: floors, then the largest remainders."""
    cands = np.nonzero(y > 1e-9)[0]
    if count == 0 or len(cands) == 0:
        return []
    share = y[cands] * (count / max(y[cands].sum(), 1e-12))
    whole = np.floor(share + 1e-9).astype(int)
    rest = count - int(whole.sum())
    for i in np.argsort(-(share - whole), kind="stable")[:rest]:
        whole[i] += 1
    return [(int(c), int(n)) for c, n in zip(cands, whole, strict=True) if n > 0]


def _initial_pools(
    classes: Sequence[PodClass], zones: ZoneAssignment, lb: LowerBound, placeable: Sequence[int]
) -> dict[int, Pool]:
    pools: dict[int, Pool] = {}
    for k in placeable:
        cls = classes[k]
        required = zones.required.get(k)
        pods = cls.pods if required is None else cls.pods[: len(required)]
        start = 0
        for cand, n in _round_assignment(lb.assignment[k], len(pods)):
            for i in range(start, start + n):
                zone = None if required is None else required[i]
                pools.setdefault(cand, {}).setdefault(zone, {}).setdefault(k, []).append(pods[i])
            start += n
    return pools


def _choose_zone(packer: Packer, cand: int, pool: Pool, turn: int) -> int:
    """The zone with the most pods pinned to it; otherwise rotate among zones most pods may use."""
    ok = packer.cs.zone_ok[:, cand, :]
    pinned = [(sum(len(p) for k, p in pool.get(z, {}).items() if ok[k, z]), z) for z in range(ok.shape[1])]
    best = max(pinned)
    if best[0] > 0:
        return best[1]
    free = [sum(len(p) for k, p in pool.get(None, {}).items() if ok[k, z]) for z in range(ok.shape[1])]
    top = [z for z, n in enumerate(free) if n == max(free)]
    return top[turn % len(top)]


def _drain_pool(pool: Pool) -> list[Pod]:
    return [pod for by_class in pool.values() for pods in by_class.values() for pod in pods]


def _fill_candidate(packer: Packer, cand: int, pool: Pool) -> list[Pod]:
    """Open nodes of `cand` until its pool is empty; returns pods that no new node of it accepted."""
    turn = 0
    while any(p for by_class in pool.values() for p in by_class.values()):
        name = packer.open_node(cand, _choose_zone(packer, cand, pool, turn))
        turn += 1
        if packer.fill(name, pool) == 0:
            packer.close_node(name)
            return _drain_pool(pool)
    return []


def _insert_into_free_space(packer: Packer, leftovers: list[Pod]) -> list[Pod]:
    """Best fit into existing nodes: the node left with the least room that accepts the pod."""
    names = list(packer.nodes)
    if not names:
        return leftovers
    free = np.array([packer.cs.room[packer.node_candidate[n]] - packer.used[n] for n in names])
    remaining: list[Pod] = []
    for pod in sorted(leftovers, key=lambda p: -int(packer.cs.demand[packer.class_of(p)].sum())):
        need = packer.cs.demand[packer.class_of(pod)]
        fit = np.nonzero((free >= need).all(axis=1))[0]
        slack = (free[fit] - need).sum(axis=1) if len(fit) else np.array([])
        for i in fit[np.argsort(slack, kind="stable")]:
            if packer.can_place(pod, names[i]):
                packer.place(pod, names[i])
                free[i] -= need
                break
        else:
            remaining.append(pod)
    return remaining


def _simulated_values(
    packer: Packer, zone: int, counts: dict[int | None, dict[int, int]], weight: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """LP value an empty node of every candidate in `zone` would hold, filled largest-first.

    One pass over the waiting classes, vectorized over candidates (the class order is global here,
    by share of the median candidate's room; the real fill that follows uses per-node order).
    """
    cs = packer.cs
    waiting: dict[int, int] = {}
    for key in (zone, None):
        for k, n in counts.get(key, {}).items():
            waiting[k] = waiting.get(k, 0) + n
    room = cs.room.astype(np.int64).copy()
    value = np.zeros(len(cs.candidates))
    scale = np.maximum(np.median(cs.room, axis=0), 1)
    order = sorted(waiting, key=lambda k: (-float((cs.demand[k] / scale).max()), k))
    for k in order:
        need = cs.demand[k]
        used = need > 0
        by_room = (room[:, used] // need[used]).min(axis=1) if used.any() else np.full(len(room), waiting[k])
        take = np.minimum(np.minimum(by_room, cs.per_node[k]), waiting[k])
        take = np.where(cs.zone_ok[k, :, zone], np.maximum(take, 0), 0)
        room -= take[:, None] * need[None, :]
        value += take * weight[k]
    return value


def _open_best_nodes(
    packer: Packer, leftovers: list[Pod], zones_of: dict[int, int], weight: npt.NDArray[np.float64]
) -> list[Pod]:
    """Greedy: open the candidate/zone with the most waiting value per dollar, fill it, repeat."""
    pool: Pool = {}
    for pod in leftovers:
        pool.setdefault(zones_of.get(id(pod)), {}).setdefault(packer.class_of(pod), []).append(pod)
    cs = packer.cs
    prices = np.array([c.price for c in cs.candidates])
    stuck: list[Pod] = []
    while any(p for by_class in pool.values() for p in by_class.values()):
        counts = {z: {k: len(p) for k, p in by_class.items() if p} for z, by_class in pool.items()}
        best, best_ratio = None, 0.0
        for zone in range(len(cs.zones)):
            ratios = _simulated_values(packer, zone, counts, weight) / prices if len(prices) else prices
            if len(ratios) and ratios.max() > best_ratio * (1 + 1e-12):
                best, best_ratio = (int(np.argmax(ratios)), zone), float(ratios.max())
        if best is None or best_ratio <= 0:
            return stuck + _drain_pool(pool)
        name = packer.open_node(*best)
        if packer.fill(name, pool) == 0:
            packer.close_node(name)
            # the simulation said yes but the scheduler said no (pod affinity, cross-class anti-affinity)
            k = max(counts.get(best[1], {}) | counts.get(None, {}), key=lambda k: weight[k])
            for key in (best[1], None):
                stuck.extend(pool.get(key, {}).pop(k, []))
    return stuck


def _downsize(packer: Packer) -> None:
    """Move each node to the cheapest candidate that holds the same pods in the same zone."""
    cs = packer.cs
    prices = np.array([c.price for c in cs.candidates])
    for name in sorted(packer.nodes):
        counts = {k: n for k, n in packer.class_counts[name].items() if n > 0}
        if not counts:
            packer.close_node(name)
            continue
        zone = packer.node_zone[name]
        ks = np.array(sorted(counts))
        ns = np.array([counts[k] for k in ks])
        ok = (cs.room >= packer.used[name]).all(axis=1)
        ok &= cs.zone_ok[ks, :, zone].all(axis=0)
        ok &= (cs.per_node[ks, :] >= ns[:, None]).all(axis=0)
        current = packer.node_candidate[name]
        options = np.nonzero(ok & (prices < prices[current] - 1e-12))[0]
        if len(options):
            packer.retype_node(name, int(options[np.argmin(prices[options])]))


def build_plan_nodes(
    packer: Packer,
    classes: Sequence[PodClass],
    zones: ZoneAssignment,
    lb: LowerBound,
    placeable: Sequence[int],
    *,
    lp_rounding: bool = True,
) -> list[Pod]:
    """Fill `packer` with nodes for the placeable classes; returns pods no node could take.

    Without `lp_rounding` every pod goes through the greedy step (4): slower on big inputs, but on
    small ones it avoids rounding artefacts, so the planner tries both there and keeps the cheaper.
    """
    zones_of = {
        id(cls.pods[i]): z
        for k, req in zones.required.items()
        for cls in [classes[k]]
        for i, z in enumerate(req)
        if z is not None
    }
    leftovers: list[Pod] = []
    pools = _initial_pools(classes, zones, lb, placeable)
    if not lp_rounding:
        pools, leftovers = {}, [p for pool in pools.values() for p in _drain_pool(pool)]
    for cand in sorted(pools, key=lambda c: -lb.nodes[c]):
        leftovers += _fill_candidate(packer, cand, pools[cand])
    for name in [n for n in packer.nodes if packer.utilization(n) < _UNDERFILLED]:
        leftovers += packer.close_node(name)
    leftovers = _insert_into_free_space(packer, leftovers)
    weight = _pod_weights(packer, lb)
    stuck = _open_best_nodes(packer, leftovers, zones_of, weight)
    _downsize(packer)
    return stuck


def _pod_weights(packer: Packer, lb: LowerBound) -> npt.NDArray[np.float64]:
    """What a pod of each class is worth: its LP dual price, or its cheapest per-pod node cost."""
    cs = packer.cs
    if not cs.candidates:
        return np.zeros(len(lb.pod_value))
    prices = np.array([c.price for c in cs.candidates])
    with np.errstate(divide="ignore"):
        per_pod = np.where(cs.fits, prices[None, :] / np.maximum(cs.per_node, 1), np.inf).min(axis=1)
    per_pod = np.where(np.isfinite(per_pod), per_pod, 0.0)
    return np.where(lb.pod_value > 1e-12, lb.pod_value, per_pod)
