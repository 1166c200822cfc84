"""One greedy node fill that also keeps the per-node rules (conflicting classes, hostname spread caps).

Called by `optimizer.pricing` when the pods have such rules (otherwise `optimizer.batch_fill` fills
many nodes at once). Plain Python on short int lists: a node has a handful of resources, and numpy's
per-call overhead on 3-element arrays would dominate.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.node_rules import NodeRules

__all__ = ["fill_with_rules"]

IntArray = npt.NDArray[np.int64]


def fill_with_rules(
    rules: NodeRules,
    room: IntArray,
    klass: IntArray,
    demand: IntArray,
    cap: IntArray,
    start: IntArray,
    order: IntArray,
    n_cls: int,
) -> IntArray | None:
    """Counts per row (aligned with `klass`), or None if `start` alone does not fit the node."""
    count = _drop_rule_breakers(rules, klass, np.minimum(start, cap), n_cls, len(rules.group_cap))
    left = (room - count @ demand).tolist()
    if min(left) < 0:
        return None
    present = np.zeros(n_cls, dtype=np.int64)
    load = np.zeros(len(rules.group_cap), dtype=np.int64)
    np.add.at(present, klass, count)
    for i in np.nonzero(count)[0].tolist():
        for g in rules.groups_of.get(int(klass[i]), ()):
            load[g] += count[i]
    smallest = demand.min(axis=0).tolist()
    dem, caps, cnt, kl = demand.tolist(), cap.tolist(), count.tolist(), klass.tolist()
    for i in order.tolist():
        if any(r < s for r, s in zip(left, smallest, strict=True)):
            break
        n = caps[i] - cnt[i]
        d = dem[i]
        for r, need in zip(left, d, strict=True):
            if need > 0:
                n = min(n, r // need)
        if n <= 0:
            continue
        k = kl[i]
        n = rules.allows(present, k, n, load)
        if n > 0:
            present[k] += n
            for g in rules.groups_of.get(k, ()):
                load[g] += n
            cnt[i] += n
            left = [r - n * need for r, need in zip(left, d, strict=True)]
    return np.array(cnt, dtype=np.int64)


def _drop_rule_breakers(
    rules: NodeRules, klass: IntArray, count: IntArray, n_cls: int, n_groups: int
) -> IntArray:
    """Keep a rounded-down start only as far as the per-node rules allow, in row order."""
    out = np.zeros_like(count)
    present = np.zeros(n_cls, dtype=np.int64)
    load = np.zeros(n_groups, dtype=np.int64)
    for i in np.nonzero(count)[0].tolist():
        k = int(klass[i])
        n = rules.allows(present, k, int(count[i]), load)
        out[i] = n
        present[k] += n
        for g in rules.groups_of.get(k, ()):
            load[g] += n
    return out
