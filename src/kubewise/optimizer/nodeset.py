"""Nodes under construction: candidate, zone, free room and pods per demand row, with vectorised checks.

Used by `optimizer.dealing` (placing pods), `optimizer.rounding` (opening nodes) and
`optimizer.consolidate` (emptying and retyping nodes). The question asked most is "how many pods of
this row could each of these nodes take?": resources left, the class running on the candidate in that
zone, the row's zone pin, one pod per node for self anti-affinity, and the per-node rules between
classes (`optimizer.node_rules`). It is answered for many nodes at once with NumPy, so that placing
10,000 pods costs a few thousand array operations, not 10,000 x nodes Python steps.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.candidates import CandidateSet
from kubewise.optimizer.demand import ANY_ZONE, DemandRows
from kubewise.optimizer.node_rules import NodeRules

__all__ = ["NodeSet"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_BIG = np.int64(1) << np.int64(40)


class NodeSet:
    """A growing set of nodes; a removed node stays as a dead slot so that indices never move."""

    def __init__(self, cs: CandidateSet, rows: DemandRows, rules: NodeRules) -> None:
        self.cs, self.rows, self.rules = cs, rows, rules
        self.demand = cs.demand[rows.klass]  # rows x resources
        self.usable = cs.zone_ok & (cs.per_node > 0)[:, :, None]  # classes x candidates x zones
        self.n = 0
        size = 64
        self.cand = np.zeros(size, dtype=np.int64)
        self.zone = np.zeros(size, dtype=np.int64)
        self.free = np.zeros((size, len(cs.resources)), dtype=np.int64)
        self.alive = np.zeros(size, dtype=bool)
        self.contents: list[dict[int, int]] = []  # node -> {row: pods}
        # pods per node of the classes whose count a rule reads (one per node, conflicts, spread groups)
        tracked = {k for k in range(len(cs.demand)) if cs.one_per_node[k]}
        tracked |= set(rules.conflicts) | set(rules.groups_of)
        self.tracked = tracked
        self.present: dict[int, IntArray] = {k: np.zeros(size, dtype=np.int64) for k in sorted(tracked)}
        self.load: list[IntArray] = [np.zeros(size, dtype=np.int64) for _ in rules.group_cap]
        self.journal: list[tuple[int, IntArray, IntArray]] | None = None  # placements to undo, when kept

    # ---- growth -------------------------------------------------------------------------------------
    def _grow(self, need: int) -> None:
        size = len(self.cand)
        if need <= size:
            return
        new = max(need, 2 * size)
        self.cand = np.resize(self.cand, new)
        self.zone = np.resize(self.zone, new)
        self.free = np.vstack([self.free, np.zeros((new - size, self.free.shape[1]), dtype=np.int64)])
        self.alive = np.concatenate([self.alive, np.zeros(new - size, dtype=bool)])
        for k, arr in self.present.items():
            self.present[k] = np.concatenate([arr, np.zeros(new - size, dtype=np.int64)])
        self.load = [np.concatenate([a, np.zeros(new - size, dtype=np.int64)]) for a in self.load]

    def open(self, cand: int, zones: IntArray) -> IntArray:
        """New empty nodes of candidate `cand`, one per entry of `zones`; returns their indices."""
        count = len(zones)
        self._grow(self.n + count)
        idx = np.arange(self.n, self.n + count, dtype=np.int64)
        self.cand[idx] = cand
        self.zone[idx] = zones
        self.free[idx] = self.cs.room[cand]
        self.alive[idx] = True
        self.contents.extend({} for _ in range(count))
        self.n += count
        return idx

    @property
    def live(self) -> IntArray:
        out: IntArray = np.nonzero(self.alive[: self.n])[0].astype(np.int64)
        return out

    # ---- questions ----------------------------------------------------------------------------------
    def room_for(self, row: int, nodes: IntArray) -> IntArray:
        """How many more pods of `row` each of `nodes` could take (0 where it may not run at all)."""
        k = int(self.rows.klass[row])
        d = self.demand[row]
        free = self.free[nodes]
        need = d > 0
        fit = (free[:, need] // d[need]).min(axis=1) if need.any() else np.full(len(nodes), _BIG)
        zones = self.zone[nodes]
        ok = self.alive[nodes] & self.usable[k, self.cand[nodes], zones]
        pinned = int(self.rows.zone[row])
        if pinned != ANY_ZONE:
            ok &= zones == pinned
        if k in self.tracked:
            if self.cs.one_per_node[k]:
                fit = np.minimum(fit, 1 - self.present[k][nodes])
            for j in self.rules.conflicts.get(k, ()):
                ok &= self.present[j][nodes] == 0
            for g in self.rules.groups_of.get(k, ()):
                fit = np.minimum(fit, self.rules.group_cap[g] - self.load[g][nodes])
        out: IntArray = np.where(ok, np.maximum(fit, 0), 0).astype(np.int64)
        return out

    def room_on(self, node: int, rows: IntArray) -> IntArray:
        """How many more pods of each of `rows` one node could take (the transpose of `room_for`)."""
        klass = self.rows.klass[rows]
        d = self.demand[rows]
        free = self.free[node]
        with np.errstate(divide="ignore"):
            fit = np.where(d > 0, free[None, :] // np.maximum(d, 1), _BIG).min(axis=1)
        zone = int(self.zone[node])
        ok = self.usable[klass, int(self.cand[node]), zone] & bool(self.alive[node])
        pinned = self.rows.zone[rows]
        ok &= (pinned == ANY_ZONE) | (pinned == zone)
        fit = np.where(self.cs.one_per_node[klass], np.minimum(fit, 1), fit)
        here = {int(self.rows.klass[r]) for r in self.contents[node]}  # classes on the node
        if here:
            on = np.fromiter(here, dtype=np.int64)
            fit = np.where(self.cs.one_per_node[klass] & np.isin(klass, on), 0, fit)
            blocked = set().union(*(self.rules.conflicts.get(k, set()) for k in here))
            if blocked:
                ok &= ~np.isin(klass, np.fromiter(blocked, dtype=np.int64))
        if self.rules.groups_of:
            for i, k in enumerate(klass.tolist()):
                for g in self.rules.groups_of.get(k, ()):
                    fit[i] = min(fit[i], self.rules.group_cap[g] - self.load[g][node])
        out: IntArray = np.where(ok, np.maximum(fit, 0), 0).astype(np.int64)
        return out

    def slack_after(
        self, row: int, nodes: IntArray, reserve: IntArray | None = None
    ) -> npt.NDArray[np.float64]:
        """The tightest resource's free share on each node after one more pod of `row` (less `reserve`)."""
        room = self.cs.room[self.cand[nodes]].astype(float)
        left = (self.free[nodes] - self.demand[row]).astype(float)
        if reserve is not None:
            left -= reserve
        share = np.where(room > 0, left / np.maximum(room, 1.0), np.inf)
        out: npt.NDArray[np.float64] = share.min(axis=1)
        return out

    # ---- changes ------------------------------------------------------------------------------------
    def place(self, row: int, nodes: IntArray, counts: IntArray) -> None:
        """Put counts[i] pods of `row` on nodes[i] (the caller checked `room_for`)."""
        keep = counts > 0
        nodes, counts = nodes[keep], counts[keep]
        if not len(nodes):
            return
        self.free[nodes] -= counts[:, None] * self.demand[row][None, :]
        k = int(self.rows.klass[row])
        if k in self.tracked:
            self.present[k][nodes] += counts
            for g in self.rules.groups_of.get(k, ()):
                self.load[g][nodes] += counts
        for i, c in zip(nodes.tolist(), counts.tolist(), strict=True):
            box = self.contents[i]
            box[row] = box.get(row, 0) + c
        if self.journal is not None:
            self.journal.append((row, nodes, counts))

    def start_journal(self) -> None:
        self.journal = []

    def undo_journal(self) -> None:
        """Take back every placement since `start_journal`."""
        entries, self.journal = self.journal or [], None
        for row, nodes, counts in reversed(entries):
            for i, c in zip(nodes.tolist(), counts.tolist(), strict=True):
                self.unplace(row, i, c)

    def reopen(self, node: int, held: dict[int, int]) -> None:
        """Bring back a node removed by `close` with the pods it held."""
        self.alive[node] = True
        for row, count in held.items():
            self.place(row, np.array([node], dtype=np.int64), np.array([count], dtype=np.int64))

    def unplace(self, row: int, node: int, count: int) -> None:
        box = self.contents[node]
        box[row] -= count
        if not box[row]:
            del box[row]
        self.free[node] += count * self.demand[row]
        k = int(self.rows.klass[row])
        if k in self.tracked:
            self.present[k][node] -= count
            for g in self.rules.groups_of.get(k, ()):
                self.load[g][node] -= count

    def close(self, node: int) -> dict[int, int]:
        """Remove a node; returns the pods it held ({row: count})."""
        held = dict(self.contents[node])
        for row, count in held.items():
            self.unplace(row, node, count)
        self.alive[node] = False
        return held

    def retype(self, node: int, cand: int) -> None:
        """Move a node's pods to a node of another candidate (the caller checked that they fit)."""
        self.free[node] += self.cs.room[cand] - self.cs.room[self.cand[node]]
        self.cand[node] = cand

    # ---- totals -------------------------------------------------------------------------------------
    def price(self, prices: npt.NDArray[np.float64]) -> float:
        return float(prices[self.cand[self.live]].sum())

    def used(self, node: int) -> IntArray:
        out: IntArray = self.cs.room[self.cand[node]] - self.free[node]
        return out
