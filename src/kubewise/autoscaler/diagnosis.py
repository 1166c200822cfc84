"""Diagnosis (pure): why the autoscaler does not do what its user expects, from the policies' side.

Called by the platform's diagnosis service (`server/services/diagnosis.py`, served at
`GET /v1/kubernetes/clusters/{id}/diagnosis`), which `kubewise doctor` reads. The cluster's snapshot,
its policies, the region's catalog and what the autoscaler remembers (empty-since times, offerings
without capacity, pods whose nodes are starting, recent actions) go in; `Problem`s come out, each a
check id, a cause and a fix -- the same fields as the doctor's `Finding`, which this layer cannot
import. The questions are asked of the autoscaler's own code (`scale_up`, the evictor's PDB rules,
`scheduling`), with the switches that matter turned on, so the answer is what the autoscaler would do
if the user fixed the setting, not a second opinion.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kubewise.autoscaler.downscaler import REMOVAL_DISABLED_LABEL, is_empty
from kubewise.autoscaler.evictor import budget_spent, disruptions_left, why_node_stays, workload_replicas
from kubewise.autoscaler.policy import AutoscalerPolicy
from kubewise.autoscaler.problems import SHOWN, Problem, named
from kubewise.autoscaler.rightsizing_problems import (
    RIGHTSIZING_ANNOTATION,
    RIGHTSIZING_MIN_DATA_SECONDS,
    Rightsizing,
    rightsizing_problems,
)
from kubewise.autoscaler.scale_up import ScaleUp, cluster_state, largest_first, node_cores, scale_up
from kubewise.autoscaler.spot import INTERRUPTION_TAINTS
from kubewise.catalog.types import RegionCatalog
from kubewise.model import CAPACITY_ON_DEMAND, CAPACITY_SPOT, Node, OwnerKind, Pod, Snapshot
from kubewise.optimizer import Constraints, NodeTemplate, PlannedNode, planned_node_object
from kubewise.optimizer.node_labels import default_zones, is_well_known
from kubewise.optimizer.templates import derive_templates, zones_of
from kubewise.scheduling import ClusterState, static_fit

__all__ = [
    "LONG_EMPTY_DELAY_SECONDS",
    "RIGHTSIZING_ANNOTATION",
    "RIGHTSIZING_MIN_DATA_SECONDS",
    "Problem",
    "RecentAction",
    "Rightsizing",
    "diagnose",
]

LONG_EMPTY_DELAY_SECONDS = 3600  # an empty node kept longer than this costs more than it saves churn
_MIN_DIVERSITY_PERCENT = 20  # below this, few other spot types qualify (the reference suggests 20-30)


@dataclass(frozen=True, slots=True)
class RecentAction:
    """An action the autoscaler stored lately and what became of it (the platform's action rows)."""

    kind: str  # add-nodes | cordon-node | drain-node | delete-node
    status: str  # pending | done | failed
    capacity_type: str = ""  # add-nodes: on-demand | spot
    spot_fallback: bool = False  # add-nodes: on-demand because no spot could be had (spotBackups)
    pods: tuple[str, ...] = ()  # add-nodes: the pods it is for; drain-node: the pods evicted
    message: str = ""  # the controller's, when it finished


def diagnose(
    snapshot: Snapshot,
    catalog: RegionCatalog,
    policy: AutoscalerPolicy,
    now: float,
    *,
    constraints: Constraints | None = None,
    empty_since: Mapping[str, float] | None = None,
    unavailable: frozenset[tuple[str, str]] = frozenset(),
    in_flight: frozenset[str] = frozenset(),
    recent: Sequence[RecentAction] = (),
    rightsizing: Rightsizing | None = None,
) -> tuple[Problem, ...]:
    """Every problem found, errors first, then by check id (deterministic for the same input)."""
    constraints = constraints if constraints is not None else Constraints()
    if constraints.templates is None:
        constraints = dataclasses.replace(constraints, templates=_templates(snapshot))
    up = _scale_up_probe(snapshot, catalog, constraints, policy, unavailable, in_flight)
    found = [
        *_unschedulable_off(policy, up),
        *_cluster_limit(snapshot, policy, up),
        *_too_narrow(snapshot, catalog, up),
        *_pdb_blocks(snapshot, policy),
        *_empty_kept(snapshot, policy, now, empty_since or {}),
        *_spot_tight(policy, unavailable, recent),
        *_aggressive(snapshot, policy, recent),
        *rightsizing_problems(rightsizing or Rightsizing(), now),
    ]
    return tuple(sorted(found, key=lambda p: (p.severity != "error", p.check)))


def _templates(snapshot: Snapshot) -> tuple[NodeTemplate, ...]:
    """The cluster's node pools as the autoscaler's cycle derives them (interruption taints aside)."""
    clean = [
        dataclasses.replace(n, taints=tuple(t for t in n.taints if t.key not in INTERRUPTION_TAINTS))
        for n in snapshot.nodes
    ]
    workload = [p for p in snapshot.active_pods if not (p.is_daemonset or p.is_mirror)]
    return derive_templates(clean, workload)


def _scale_up_probe(
    snapshot: Snapshot,
    catalog: RegionCatalog,
    constraints: Constraints,
    policy: AutoscalerPolicy,
    unavailable: frozenset[tuple[str, str]],
    in_flight: frozenset[str],
) -> ScaleUp:
    """What scale-up would do for the pending pods with scale-up on and no CPU limit: the nodes they
    need (their vCPUs are what the limit is compared with) and the pods no allowed type runs."""
    probe = dataclasses.replace(policy, enabled=True, unschedulable_pods=True, cluster_limits=False)
    return scale_up(snapshot, catalog, constraints, probe, unavailable, None, in_flight)


def _unschedulable_off(policy: AutoscalerPolicy, up: ScaleUp) -> list[Problem]:
    waiting = sorted({p for a in up.actions for p in a.pods} | {u.pod for u in up.unplaceable})
    if not waiting or (policy.enabled and policy.unschedulable_pods):
        return []
    switch = "enabled" if not policy.enabled else "unschedulablePods.enabled"
    return [
        Problem(
            "policy.unschedulable-pods-disabled",
            "error",
            f"{len(waiting)} pending pod(s) fit no existing node and the autoscaler will not add nodes",
            f"the policy field `{switch}` is false, so nodes are never added for unschedulable pods",
            f"set `{switch}: true` in the cluster's policies "
            "(`kubewise policies` or PUT /v1/kubernetes/clusters/{id}/policies)",
            named(waiting),
        )
    ]


def _cluster_limit(snapshot: Snapshot, policy: AutoscalerPolicy, up: ScaleUp) -> list[Problem]:
    if not (policy.enabled and policy.unschedulable_pods and policy.cluster_limits):
        return []
    now_cores = sum(node_cores(n) for n in snapshot.nodes)
    needed = sum(a.count * a.vcpu for a in up.actions)
    if needed == 0 or now_cores + needed <= policy.max_cores:
        return []
    over = now_cores + needed - policy.max_cores
    pods = sorted(p for a in up.actions for p in a.pods)
    return [
        Problem(
            "policy.cluster-limit-reached",
            "error",
            f"clusterLimits.cpu.maxCores={policy.max_cores} stops scale-up: "
            f"pending pods need {over} core(s) more than the limit allows",
            f"the cluster has {now_cores} cores and its pending pods need {needed} more on new nodes "
            f"({now_cores + needed} in all, {over} over the limit of {policy.max_cores})",
            f"raise clusterLimits.cpu.maxCores to at least {now_cores + needed}, or lower the pods' requests",
            (f"cores now: {now_cores}", f"cores needed: {needed}", *named(pods)),
        )
    ]


_NARROW_PREFIXES = ("no allowed instance type", "no instance type in the catalog")


def _too_narrow(snapshot: Snapshot, catalog: RegionCatalog, up: ScaleUp) -> list[Problem]:
    """Pending pods that no instance type the policy allows can run, grouped by the scheduling reason,
    each group with whether some type outside the allowed set would run its first pod."""
    by_reason: dict[str, list[str]] = {}
    for u in up.unplaceable:
        if u.reason.startswith(_NARROW_PREFIXES):
            by_reason.setdefault(u.reason, []).append(u.pod)
    pods = {p.key: p for p in snapshot.pods}
    zones = zones_of(snapshot.nodes) or default_zones(catalog.provider, catalog.region)
    out = []
    for reason, keys in sorted(by_reason.items()):
        outside = _outside_fit(pods[min(keys)], catalog, zones)
        if outside:
            cause = (
                f"{reason}; outside what the policy and node templates allow, {outside} would run it, "
                "so the template or constraints are too narrow"
            )
            fix = (
                "widen the node template / constraints (architectures, families, capacity type, the "
                "labels and taints of a node pool) so they include a type that fits"
            )
        else:
            cause = f"{reason}; no instance type of the region's catalog would run it either"
            fix = "lower the pods' requests or fix their node selector / affinity / tolerations"
        out.append(
            Problem(
                "policy.node-template-too-narrow",
                "error",
                f"{len(keys)} pending pod(s) fit no instance type the node template allows",
                cause,
                fix,
                named(keys),
            )
        )
    return out


def _wanted_labels(pod: Pod) -> tuple[tuple[str, str], ...]:
    """Labels a node pool built for this pod would carry: its node selector and its first affinity
    term's `In` values, but for the well-known ones (arch, zone, type...) that the type itself sets."""
    labels = dict(pod.node_selector)
    for req in pod.node_affinity[0].match_expressions if pod.node_affinity else ():
        if req.operator == "In" and req.values:
            labels.setdefault(req.key, req.values[0])
    return tuple(sorted((k, v) for k, v in labels.items() if not is_well_known(k)))


def _outside_fit(pod: Pod, catalog: RegionCatalog, zones: Sequence[str]) -> str:
    """The cheapest catalog type (any architecture, family or capacity type, a template made for the
    pod) that would run it, described; '' when none would."""
    template = NodeTemplate("probe", _wanted_labels(pod))
    fits: list[tuple[float, str]] = []
    for itype in catalog:
        for capacity in (CAPACITY_ON_DEMAND, CAPACITY_SPOT):
            price = itype.price(capacity)
            if price is None:
                continue
            for zone in zones:
                node = planned_node_object(PlannedNode(itype, capacity, zone, template), "probe")
                if static_fit(pod, node) is None:
                    fits.append((price, f"{itype.name} ({itype.arch}, {capacity}, {zone})"))
                    break
    if not fits:
        return ""
    return min(fits)[1]


_FIT_CHECKS = 50  # PDB-blocked nodes whose pods are tried elsewhere: enough to name the budgets


def _fits_elsewhere(state: ClusterState, nodes: Sequence[Node], pods: Sequence[Pod], node: str) -> bool:
    """Would `pods`, taken off `node`, all find room on the other schedulable nodes (the evictor's
    question before a drain)? `state` is left as it was found."""
    for pod in pods:
        state.remove(pod, node)
    targets = [n.name for n in nodes if n.name != node and not n.unschedulable]
    placed: list[tuple[Pod, str]] = []
    for pod in sorted(pods, key=largest_first):
        target = next((t for t in targets if state.can_place(pod, t) is None), None)
        if target is None:
            break
        state.place(pod, target)
        placed.append((pod, target))
    fits = len(placed) == len(pods)
    for pod, where in placed:
        state.remove(pod, where)
    for pod in pods:
        state.place(pod, node)
    return fits


def _pdb_blocks(snapshot: Snapshot, policy: AutoscalerPolicy) -> list[Problem]:
    """PodDisruptionBudgets that allow no disruption now and so keep nodes the evictor would remove
    (their pods fit on the others, nothing else keeps them): one problem per budget."""
    if not (policy.enabled and policy.evictor) or not snapshot.pdbs:
        return []
    active = snapshot.active_pods
    replicas = workload_replicas(active)
    budgets = {(b.namespace, b.name): disruptions_left(b, active) for b in snapshot.pdbs}
    unlimited = dict.fromkeys(budgets, len(active) + 1)
    on_node: dict[str, list[Pod]] = {}
    for pod in active:
        if pod.node_name and not pod.is_daemonset:
            on_node.setdefault(pod.node_name, []).append(pod)
    state, tried = cluster_state(snapshot), 0
    kept: dict[tuple[str, str], list[str]] = {}
    for node in sorted(snapshot.nodes, key=lambda n: n.name):
        pods = on_node.get(node.name, [])
        if not pods or node.unschedulable or tried >= _FIT_CHECKS:
            continue
        spent = budget_spent(snapshot, pods)
        blocked = sorted(k for k, n in spent.items() if n > budgets[k])
        if not blocked or why_node_stays(node, pods, replicas, unlimited, spent, policy.aggressive_mode):
            continue  # no budget in the way, or the node stays for another reason anyway
        tried += 1
        if _fits_elsewhere(state, snapshot.nodes, pods, node.name):
            for key in blocked:
                kept.setdefault(key, []).append(node.name)
    return [
        Problem(
            "policy.pdb-blocks-scale-down",
            "warning",
            f"PodDisruptionBudget {ns}/{name} keeps {len(nodes)} node(s) the evictor would remove",
            f"PodDisruptionBudget {ns}/{name} allows {budgets[(ns, name)]} disruption(s) now; the pods of "
            f"{', '.join(nodes[:SHOWN])} fit on the other nodes, but evicting them would break it, and "
            "budgets are always respected, so the nodes stay",
            "relax the PodDisruptionBudget (a lower minAvailable, or a maxUnavailable of at least 1) or "
            "run more replicas so that one may be disrupted",
            (f"pdb: {ns}/{name}", *(f"node: {n}" for n in named(nodes))),
        )
        for (ns, name), nodes in sorted(kept.items())
    ]


def _empty_kept(
    snapshot: Snapshot, policy: AutoscalerPolicy, now: float, empty_since: Mapping[str, float]
) -> list[Problem]:
    if not policy.enabled:
        return []  # automation is off: kubewise only reports, keeping every node is what it was told
    empty = is_empty(snapshot)
    nodes = sorted(
        n.name
        for n in snapshot.nodes
        if empty[n.name] and not n.unschedulable and n.labels.get(REMOVAL_DISABLED_LABEL) != "true"
    )
    if not nodes:
        return []
    evidence = (
        tuple(
            f"{n}: empty for {now - empty_since[n]:.0f}s" if n in empty_since else f"{n}: empty"
            for n in nodes[:SHOWN]
        )
        + named(nodes)[SHOWN:]
    )
    off = [
        f
        for f, on in (
            ("nodeDownscaler.enabled", policy.node_downscaler),
            ("nodeDownscaler.emptyNodes.enabled", policy.empty_nodes),
        )
        if not on
    ]
    if off:
        cause = f"the policy field(s) {', '.join(f'`{f}`' for f in off)} are false: empty nodes are kept"
        fix = f"set {', '.join(f'`{f}: true`' for f in off)} in the cluster's policies"
    elif policy.empty_delay_seconds >= LONG_EMPTY_DELAY_SECONDS:
        cause = (
            f"nodeDownscaler.emptyNodes.delaySeconds is {policy.empty_delay_seconds:g}s "
            f"({policy.empty_delay_seconds / 3600:.1f} h): empty nodes wait that long before removal"
        )
        fix = "reduce nodeDownscaler.emptyNodes.delaySeconds (300-600 s is usual)"
    else:
        return []
    return [
        Problem(
            "policy.empty-nodes-kept",
            "warning",
            f"{len(nodes)} node(s) run only DaemonSet pods and are not being removed",
            cause,
            fix,
            evidence,
        )
    ]


def _spot_tight(
    policy: AutoscalerPolicy, unavailable: frozenset[tuple[str, str]], recent: Sequence[RecentAction]
) -> list[Problem]:
    if not (policy.enabled and policy.spot):
        return []
    adds = [a for a in recent if a.kind == "add-nodes"]
    fallbacks = sum(1 for a in adds if a.spot_fallback)
    failed = sum(1 for a in adds if a.capacity_type == CAPACITY_SPOT and a.status == "failed")
    short = sorted(t for t, c in unavailable if c == CAPACITY_SPOT)
    limit = policy.spot_diversity_price_increase_limit_percent
    tight = not policy.spot_diversity or limit < _MIN_DIVERSITY_PERCENT
    if not (fallbacks or failed or short) or not tight:
        return []
    setting = (
        "spotInstances.spotDiversityEnabled is false: each spot request names one instance type"
        if not policy.spot_diversity
        else f"spotInstances.spotDiversityPriceIncreaseLimitPercent is {limit:g}: few other types qualify"
    )
    evidence = [f"on-demand fallbacks: {fallbacks}", f"failed spot launches: {failed}"]
    if short:
        evidence.append(f"spot types without capacity now: {', '.join(short[:SHOWN])}")
    return [
        Problem(
            "policy.spot-diversity-too-tight",
            "warning",
            "spot requests keep failing or falling back to on-demand and spot diversity is too tight",
            f"the cloud recently had no spot capacity for the requested types; {setting}",
            "set spotInstances.spotDiversityEnabled: true and "
            "spotInstances.spotDiversityPriceIncreaseLimitPercent to 20-30",
            tuple(evidence),
        )
    ]


def _exposed(snapshot: Snapshot) -> tuple[set[str], list[tuple[str, str]]]:
    """Pods that only aggressive mode lets the evictor move (bare or single-replica: their keys), and
    the single-replica workloads as (namespace, name prefix of their pods)."""
    active = [p for p in snapshot.active_pods if not (p.is_daemonset or p.is_mirror)]
    replicas: Counter[tuple[str, str, str]] = workload_replicas(active)
    bare = {p.key for p in active if p.owner_kind == OwnerKind.NONE}
    singles = {
        p.key
        for p in active
        if p.owner_kind != OwnerKind.NONE and replicas[(p.namespace, p.owner_kind, p.owner_name)] <= 1
    }
    workloads = sorted({(ns, name) for (ns, _, name), n in replicas.items() if n <= 1})
    return bare | singles, workloads


def _aggressive(
    snapshot: Snapshot, policy: AutoscalerPolicy, recent: Sequence[RecentAction]
) -> list[Problem]:
    if not (policy.enabled and policy.evictor and policy.aggressive_mode):
        return []
    exposed, workloads = _exposed(snapshot)

    def single(key: str) -> bool:  # an evicted pod may be gone: known by its workload's name prefix
        ns, _, name = key.partition("/")
        return key in exposed or any(ns == w_ns and name.startswith(f"{w}-") for w_ns, w in workloads)

    evicted = sorted(
        {p for a in recent if a.kind == "drain-node" and a.status != "failed" for p in a.pods if single(p)}
    )
    if not (evicted or exposed):
        return []
    title = (
        f"the evictor's aggressive mode evicted {len(evicted)} pod(s) of single-replica workloads"
        if evicted
        else f"the evictor's aggressive mode may evict {len(exposed)} single-replica or bare pod(s)"
    )
    return [
        Problem(
            "policy.evictor-aggressive",
            "warning",
            title,
            "evictor.aggressiveMode is true: the evictor also moves bare pods, pods with local storage and "
            "the only replica of a workload, which is down while it moves",
            f"set evictor.aggressiveMode: false and a longer evictor.cycleInterval "
            f"(now {policy.evictor_interval_seconds:g}s; e.g. 600)",
            named(evicted or sorted(exposed)),
        )
    ]
