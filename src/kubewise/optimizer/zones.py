"""Zone pre-assignment for pods whose constraints count pods per zone.

Called by `optimizer.packing` before any node exists. The kube-scheduler checks topology spread against
the nodes that exist when a pod is bound; a plan is built node by node, so it would see too few zones.
Assigning such pods to zones up front, balanced over every zone they may use, makes the final placement
satisfy DoNotSchedule spread (skew <= 1 <= maxSkew) and required zone anti-affinity (one pod per zone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubewise.model import LabelSelector, Pod
from kubewise.optimizer.node_labels import ZONE_KEYS
from kubewise.optimizer.workload import PodClass

__all__ = ["ZoneAssignment", "assign_zones"]


@dataclass(slots=True)
class ZoneAssignment:
    """Per class: the zone index each pod must run in (None = any), and pods that cannot run at all."""

    required: dict[int, list[int | None]] = field(default_factory=dict)
    impossible: list[tuple[Pod, str]] = field(default_factory=list)


def _zone_spread(pod: Pod) -> list[tuple[LabelSelector, int, int]]:
    """(selector, maxSkew, minDomains) of DoNotSchedule constraints over zones."""
    return [
        (t.selector, t.max_skew, t.min_domains or 1)
        for t in pod.topology_spread
        if t.when_unsatisfiable == "DoNotSchedule" and t.topology_key in ZONE_KEYS
    ]


def _zone_anti_affinity(pod: Pod) -> bool:
    return any(t.topology_key in ZONE_KEYS and t.selector.matches(pod.labels) for t in pod.pod_anti_affinity)


def assign_zones(
    classes: Sequence[PodClass], usable: npt.NDArray[np.bool_], zones: Sequence[str]
) -> ZoneAssignment:
    """`usable[k, z]`: class k can run in zone z on some candidate. Round-robin per constraint group."""
    out = ZoneAssignment()
    next_slot: dict[tuple[str, LabelSelector], int] = {}
    for cls in classes:
        pod = cls.example
        spread = _zone_spread(pod)
        anti = _zone_anti_affinity(pod)
        if not spread and not anti:
            continue
        allowed = [z for z in range(len(zones)) if usable[cls.index, z]]
        cap = len(cls.pods) if not anti else len(allowed)
        for _selector, max_skew, min_domains in spread:
            if min_domains > len(allowed):  # the global minimum counts as 0: each zone holds <= maxSkew
                cap = min(cap, max_skew * len(allowed))
        group = (pod.namespace, spread[0][0]) if spread else (pod.namespace, LabelSelector())
        start = next_slot.get(group, 0)
        required: list[int | None] = []
        for i, p in enumerate(cls.pods):
            if i >= cap or not allowed:
                why = "required pod anti-affinity on zone" if anti else "topology spread over zones"
                out.impossible.append(
                    (p, f"{why} allows at most {cap} such pods in zones {', '.join(zones)}")
                )
                continue
            required.append(allowed[(start + i) % len(allowed)])
        next_slot[group] = start + len(required)
        out.required[cls.index] = required
    return out
