"""Finished nodes made cheaper: each moved to the cheapest instance type that still holds its pods.

Called by `optimizer.planner` on the nodes `optimizer.column_generation` fixed. Rounding trims patterns
to the pods still waiting, so the last nodes of a pattern are often part-empty; any candidate (not only
the ones pricing looked at) that runs every pod class on the node, in its zone, with room and per-node
limits to spare, and costs less, takes its place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.candidates import CandidateSet
from kubewise.optimizer.demand import ANY_ZONE, DemandRows

__all__ = ["NodeSpec", "downsize"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """A node to create: candidate, zone (or ANY_ZONE: any), and pods per demand row."""

    cand: int
    zone: int
    rows: IntArray
    counts: IntArray

    def key(self) -> tuple[int, int, bytes, bytes]:
        return (self.cand, self.zone, self.rows.tobytes(), self.counts.tobytes())


def _cheapest_holder(
    cs: CandidateSet, rows: DemandRows, spec: NodeSpec, prices: npt.NDArray[np.float64]
) -> int:
    klass = rows.klass[spec.rows]
    per_class: dict[int, int] = {}
    for k, n in zip(klass.tolist(), spec.counts.tolist(), strict=True):
        per_class[k] = per_class.get(k, 0) + n
    ks = np.array(sorted(per_class), dtype=np.int64)
    ns = np.array([per_class[k] for k in ks.tolist()], dtype=np.int64)
    used = ns @ cs.demand[ks]
    usable = cs.zone_ok[ks] & (cs.per_node[ks] > 0)[:, :, None]  # classes x candidates x zones
    in_zone = usable.all(axis=2) if spec.zone == ANY_ZONE else usable[:, :, spec.zone]
    ok = (cs.room >= used).all(axis=1) & in_zone.all(axis=0) & (cs.per_node[ks] >= ns[:, None]).all(axis=0)
    ok &= prices < prices[spec.cand] - 1e-12
    options = np.nonzero(ok)[0]
    return int(options[np.argmin(prices[options])]) if len(options) else spec.cand


def downsize(cs: CandidateSet, rows: DemandRows, nodes: list[NodeSpec]) -> list[NodeSpec]:
    """Every node on the cheapest candidate that holds its pods (identical nodes are decided once)."""
    prices = np.array([c.price for c in cs.candidates], dtype=float)
    decided: dict[tuple[int, int, bytes, bytes], int] = {}
    out = []
    for spec in nodes:
        key = spec.key()
        if key not in decided:
            decided[key] = _cheapest_holder(cs, rows, spec, prices)
        out.append(NodeSpec(decided[key], spec.zone, spec.rows, spec.counts))
    return out
