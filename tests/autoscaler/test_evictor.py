"""Consolidation: nodes whose pods fit elsewhere are drained and removed; what may not move stays."""

from __future__ import annotations

import dataclasses

from builders import node, pod, small_catalog
from kubewise.autoscaler import (
    AddNodes,
    AutoscalerPolicy,
    CordonNode,
    DeleteNode,
    DrainNode,
    consolidate,
    plan_cycle,
)
from kubewise.autoscaler.evictor import disruptions_left
from kubewise.model import LabelSelector, OwnerKind, PodDisruptionBudget, Snapshot
from kubewise.optimizer import Constraints

ON = AutoscalerPolicy(enabled=True, evictor=True)


def _web(i: int, at: str, **fields: object) -> object:
    return pod(f"web-{i}", 500, 1, app="web", node_name=at, phase="Running", **fields)


def _three_nodes(*pods: object, pdbs: tuple[PodDisruptionBudget, ...] = ()) -> Snapshot:
    nodes = (
        node("n1", "m.xlarge", 4000, 16),
        node("n2", "m.xlarge", 4000, 16),
        node("n3", "m.large", 2000, 8),
    )
    return Snapshot(nodes, tuple(pods), pdbs)  # type: ignore[arg-type]


def test_the_most_expensive_node_whose_pods_fit_elsewhere_is_drained_and_removed() -> None:
    snap = _three_nodes(_web(0, "n1"), _web(1, "n2"), _web(2, "n3"))
    result = consolidate(snap, small_catalog(), ON)
    assert [(type(a), a.node) for a in result.actions] == [
        (CordonNode, "n1"),
        (DrainNode, "n1"),
        (DeleteNode, "n1"),
    ]
    drain = result.actions[1]
    assert isinstance(drain, DrainNode) and drain.pods == ("default/web-0",)
    assert "saves $0.2000/h" in drain.reason


def test_bare_pods_local_storage_and_single_replicas_stay_unless_aggressive() -> None:
    bare = pod("bare", 500, 1, node_name="n1", phase="Running", owner_kind=OwnerKind.NONE, owner_name="")
    scratch = _web(1, "n2", has_local_storage=True)
    single = pod("solo", 500, 1, app="solo", node_name="n3", phase="Running")
    snap = _three_nodes(bare, scratch, single, _web(2, "n2"))
    result = consolidate(snap, small_catalog(), dataclasses.replace(ON, evictor_nodes_per_cycle=3))
    assert result.actions == ()
    assert "no controller" in result.kept["n1"] and "local storage" in result.kept["n2"]
    assert "only replica" in result.kept["n3"]
    bold = consolidate(snap, small_catalog(), dataclasses.replace(ON, aggressive_mode=True))
    assert [a.node for a in bold.actions if isinstance(a, DeleteNode)] == ["n1"]


def test_a_pdb_without_disruptions_left_blocks_the_node() -> None:
    pdb = PodDisruptionBudget("default", "web", LabelSelector((("app", "web"),)), min_available=3)
    snap = _three_nodes(_web(0, "n1"), _web(1, "n2"), _web(2, "n3"), pdbs=(pdb,))
    assert disruptions_left(pdb, snap.pods) == 0
    result = consolidate(snap, small_catalog(), dataclasses.replace(ON, evictor_nodes_per_cycle=3))
    assert result.actions == () and "PodDisruptionBudget default/web allows 0" in result.kept["n1"]
    one = dataclasses.replace(pdb, min_available=None, max_unavailable="34%")  # floor(3 * 0.34) = 1
    snap = _three_nodes(_web(0, "n1"), _web(1, "n2"), _web(2, "n3"), pdbs=(one,))
    result = consolidate(snap, small_catalog(), dataclasses.replace(ON, evictor_nodes_per_cycle=3))
    assert [a.node for a in result.actions if isinstance(a, DeleteNode)] == ["n1"]  # the budget is spent


def test_pods_that_do_not_fit_elsewhere_keep_their_node() -> None:
    big = [
        pod(f"big-{i}", 3500, 12, app="big", node_name=n, phase="Running") for i, n in enumerate(("n1", "n2"))
    ]
    snap = _three_nodes(*big)
    result = consolidate(snap, small_catalog(), dataclasses.replace(ON, evictor_nodes_per_cycle=3))
    assert result.actions == ()
    assert (
        "do not fit elsewhere and new nodes for them would cost $0.2000/h of its $0.2000/h"
        in result.kept["n1"]
    )


def test_a_node_is_replaced_by_a_cheaper_one_when_its_pods_fit_nowhere_else() -> None:
    nodes = (node("big", "m.4xlarge", 15800, 62), node("n2", "m.large", 1900, 7))
    pods = [pod(f"web-{i}", 500, 1, app="web", node_name="big", phase="Running") for i in range(3)]
    pods.append(pod("other", 1500, 5, app="other", node_name="n2", phase="Running"))
    pods.append(pod("other-2", 1500, 5, app="other", node_name="n2", phase="Running"))
    result = consolidate(Snapshot(nodes, tuple(pods)), small_catalog(), ON)
    kinds = [a.kind for a in result.actions]
    assert kinds == ["add-nodes", "cordon-node", "drain-node", "delete-node"]
    add = result.actions[0]
    assert isinstance(add, AddNodes) and add.count * add.hourly_price <= 0.80 * 0.8
    assert add.reason.startswith("replaces big:") and "instead of $0.8000/h" in result.actions[2].reason
    assert sorted(add.pods) == ["default/web-0", "default/web-1", "default/web-2"]


def test_no_consolidation_while_pods_are_pending_and_only_every_interval() -> None:
    pending = _three_nodes(_web(0, "n1"), _web(1, "n2"), pod("waiting", 500, 1))
    assert consolidate(pending, small_catalog(), ON).actions == ()
    snap = _three_nodes(_web(0, "n1"), _web(1, "n2"), _web(2, "n3"))
    first = plan_cycle(snap, small_catalog(), Constraints(), ON, now=1000.0)
    assert first.actions and first.evictor_ran_at == 1000.0
    soon = plan_cycle(snap, small_catalog(), Constraints(), ON, now=1100.0, evictor_ran_at=1000.0)
    assert soon.actions == () and soon.evictor_ran_at == 1000.0
    later = plan_cycle(snap, small_catalog(), Constraints(), ON, now=1300.0, evictor_ran_at=1000.0)
    assert later.actions == first.actions
