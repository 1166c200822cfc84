"""Back to spot: on-demand nodes started because spot could not be had go back to spot later."""

from __future__ import annotations

import dataclasses

from builders import catalog, itype, node, pod
from kubewise.autoscaler import (
    SPOT_FALLBACK_LABEL,
    AddNodes,
    AutoscalerPolicy,
    CordonNode,
    DeleteNode,
    DrainNode,
    plan_cycle,
    restore_spot,
    scale_up,
)
from kubewise.model import PodDisruptionBudget, Snapshot
from kubewise.model.selectors import LabelSelector
from kubewise.optimizer import Constraints

BACKUPS = AutoscalerPolicy(
    enabled=True, unschedulable_pods=True, spot=True, spot_backups=True, spot_backup_restore_rate_seconds=600
)
CATALOG = catalog(itype("m.xlarge", 4, 16, 0.20, spot=0.080), itype("m.2xlarge", 8, 32, 0.40, spot=0.16))
NO_SPOT = frozenset((t.name, "spot") for t in CATALOG)


def _cluster() -> Snapshot:
    """A full spot node and an on-demand fallback node holding two web pods."""
    spot = node("s1", "m.xlarge", 3920, 15, capacity_type="spot")
    fallback = node("f1", "m.xlarge", 3920, 15, labels={SPOT_FALLBACK_LABEL: "true"})
    pods = (
        pod("busy", 3800, 14, node_name="s1"),
        pod("web-a", 1000, 3, app="web", node_name="f1", owner_kind="ReplicaSet", owner_name="web"),
        pod("web-b", 1000, 3, app="web", node_name="f1", owner_kind="ReplicaSet", owner_name="web"),
    )
    return Snapshot((spot, fallback), pods)


def test_scale_up_labels_the_on_demand_nodes_it_starts_for_want_of_spot() -> None:
    pending = Snapshot((), (pod("w", 1000, 3),))
    (fallback,) = scale_up(pending, CATALOG, Constraints(), BACKUPS, NO_SPOT).actions
    assert fallback.capacity_type == "on-demand" and (SPOT_FALLBACK_LABEL, "true") in fallback.labels
    (spot,) = scale_up(pending, CATALOG, Constraints(), BACKUPS).actions
    assert spot.capacity_type == "spot" and SPOT_FALLBACK_LABEL not in dict(spot.labels)


def test_a_fallback_node_goes_back_to_spot_once_spot_can_be_had() -> None:
    result = plan_cycle(_cluster(), CATALOG, Constraints(), BACKUPS, now=1000.0)
    add, cordon, drain, delete = result.actions
    assert isinstance(add, AddNodes) and add.capacity_type == "spot" and add.reason.startswith("replaces f1")
    assert isinstance(cordon, CordonNode) and isinstance(drain, DrainNode) and isinstance(delete, DeleteNode)
    assert {cordon.node, drain.node, delete.node} == {"f1"} and "back to spot (spotBackups)" in drain.reason
    assert drain.pods == ("default/web-a", "default/web-b") and result.spot_restored_at == 1000.0


def test_nothing_moves_while_spot_is_still_unavailable_and_the_next_try_waits_the_restore_rate() -> None:
    result = plan_cycle(_cluster(), CATALOG, Constraints(), BACKUPS, now=1000.0, unavailable=NO_SPOT)
    assert result.actions == () and result.spot_restored_at == 1000.0
    assert result.notes["f1"].startswith("stays on-demand: its pods do not all fit elsewhere")
    early = plan_cycle(_cluster(), CATALOG, Constraints(), BACKUPS, now=1300.0, spot_restored_at=1000.0)
    assert early.actions == () and early.spot_restored_at == 1000.0
    due = plan_cycle(_cluster(), CATALOG, Constraints(), BACKUPS, now=1600.0, spot_restored_at=1000.0)
    assert [a.kind for a in due.actions] == ["add-nodes", "cordon-node", "drain-node", "delete-node"]


def test_a_disruption_budget_or_the_policy_keeps_the_fallback_node() -> None:
    budget = PodDisruptionBudget("default", "web", LabelSelector((("app", "web"),)), min_available=2)
    guarded = dataclasses.replace(_cluster(), pdbs=(budget,))
    kept = restore_spot(guarded, CATALOG, Constraints(), BACKUPS)
    assert kept.actions == () and "PodDisruptionBudget default/web allows 0" in kept.notes["f1"]
    off = plan_cycle(
        _cluster(), CATALOG, Constraints(), dataclasses.replace(BACKUPS, spot_backups=False), 1.0
    )
    assert off.actions == () and off.spot_restored_at is None
    pending = dataclasses.replace(_cluster(), pods=(*_cluster().pods, pod("new", 200, 1)))
    waits = restore_spot(pending, CATALOG, Constraints(), BACKUPS)
    assert waits.actions == () and waits.notes == {"f1": "stays on-demand: pods are pending"}
