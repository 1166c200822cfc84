"""What a plan must cover: rows of interchangeable pods, each either free to go to any zone or pinned.

Called by `optimizer.planner` after zones are assigned (`optimizer.zones`). A row is one pod class, or
the part of a class pinned to one zone by topology spread or zone anti-affinity. Node patterns count
pods per row; a pattern that carries a pinned row runs in that row's zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubewise.model import Pod
from kubewise.optimizer.candidates import CandidateSet
from kubewise.optimizer.workload import PodClass
from kubewise.optimizer.zones import ZoneAssignment

__all__ = ["ANY_ZONE", "DemandRows", "demand_rows"]

ANY_ZONE = -1
IntArray = npt.NDArray[np.int64]


@dataclass(slots=True)
class DemandRows:
    klass: IntArray  # row -> pod class
    zone: IntArray  # row -> zone index, or ANY_ZONE
    pods: list[list[Pod]]  # row -> its pods (empty lists in sub-problems, which only count them)
    zoned: bool  # some row is pinned or some class may only use some zones: patterns need a zone
    count: IntArray  # row -> how many pods

    def __len__(self) -> int:
        return len(self.klass)


def demand_rows(
    classes: Sequence[PodClass], placeable: Sequence[int], zones: ZoneAssignment, cs: CandidateSet
) -> DemandRows:
    """One row per placeable class, split by zone where its pods are pinned (pods left out by the zone
    assignment, which cannot run anywhere, are not covered)."""
    klass: list[int] = []
    zone: list[int] = []
    pods: list[list[Pod]] = []
    for k in placeable:
        cls = classes[k]
        required = zones.required.get(k)
        if required is None:
            klass.append(k)
            zone.append(ANY_ZONE)
            pods.append(list(cls.pods))
            continue
        by_zone: dict[int, list[Pod]] = {}
        for pod, z in zip(cls.pods, required, strict=False):
            by_zone.setdefault(ANY_ZONE if z is None else z, []).append(pod)
        for z in sorted(by_zone):
            klass.append(k)
            zone.append(z)
            pods.append(by_zone[z])
    k_arr = np.array(klass, dtype=np.int64)
    z_arr = np.array(zone, dtype=np.int64)
    usable = cs.zone_ok & (cs.per_node > 0)[:, :, None]  # classes x candidates x zones
    restricted = bool(len(k_arr)) and bool((usable[k_arr].any(axis=2) != usable[k_arr].all(axis=2)).any())
    zoned = bool((z_arr != ANY_ZONE).any()) or restricted
    return DemandRows(k_arr, z_arr, pods, zoned, np.array([len(p) for p in pods], dtype=np.int64))
