"""Spot: spot nodes when allowed, on-demand fallback, a diverse set of spot types, interruptions."""

from __future__ import annotations

import dataclasses

from builders import catalog, daemonset_pod, itype, node, pod
from kubewise.autoscaler import (
    AddNodes,
    AutoscalerPolicy,
    CordonNode,
    DeleteNode,
    DrainNode,
    plan_cycle,
    scale_up,
)
from kubewise.autoscaler.spot import INTERRUPTION_LABEL
from kubewise.model import Snapshot, Taint
from kubewise.optimizer import Constraints

SPOT = AutoscalerPolicy(enabled=True, unschedulable_pods=True, spot=True)
CATALOG = catalog(
    itype("m.xlarge", 4, 16, 0.20, spot=0.080),
    itype("r.xlarge", 4, 32, 0.25, spot=0.090),  # 12.5% more: within a 20% limit
    itype("n.xlarge", 4, 16, 0.22, spot=0.110),  # 37.5% more: beyond it
    itype("c.large", 2, 4, 0.09, spot=0.030),  # too small for the pods below
    itype("o.xlarge", 4, 16, 0.19),  # on-demand only
)


def _pending(n: int = 3) -> Snapshot:
    existing = node("n1", "m.xlarge", 3920, 15)
    return Snapshot(
        (existing,),
        (pod("busy", 3800, 14, node_name="n1"), *(pod(f"w-{i}", 1000, 3) for i in range(n))),
    )


def test_spot_nodes_and_diverse_alternatives_within_the_price_limit() -> None:
    diverse = dataclasses.replace(SPOT, spot_diversity=True, spot_diversity_price_increase_limit_percent=20)
    (action,) = scale_up(_pending(), CATALOG, Constraints(), diverse).actions
    assert (action.instance_type, action.capacity_type) == ("m.xlarge", "spot")
    assert action.alternatives == ("r.xlarge",) and "spot diversity: also r.xlarge" in action.reason
    plain = scale_up(_pending(), CATALOG, Constraints(), SPOT).actions
    assert plain[0].alternatives == ()


def test_unavailable_spot_falls_back_to_on_demand_only_with_spot_backups() -> None:
    no_spot = frozenset((t.name, "spot") for t in CATALOG)
    without = scale_up(_pending(), CATALOG, Constraints(), SPOT, no_spot)
    assert without.actions == () and len(without.unplaceable) == 3
    backups = dataclasses.replace(SPOT, spot_backups=True)
    fallback = scale_up(_pending(), CATALOG, Constraints(), backups, no_spot)
    assert fallback.actions and all(a.capacity_type == "on-demand" for a in fallback.actions)
    assert all("no allowed spot type can be had" in a.reason for a in fallback.actions)
    some = scale_up(_pending(), CATALOG, Constraints(), backups, frozenset({("m.xlarge", "spot")}))
    assert [(a.instance_type, a.capacity_type) for a in some.actions] == [("r.xlarge", "spot")]


def test_diversity_respects_node_selectors_and_daemonsets() -> None:
    diverse = dataclasses.replace(SPOT, spot_diversity=True, spot_diversity_price_increase_limit_percent=20)
    picky = Snapshot(
        _pending().nodes,
        _pending().pods[:1]
        + tuple(
            pod(f"p-{i}", 1000, 3, node_selector={"node.kubernetes.io/instance-type": "m.xlarge"})
            for i in range(3)
        ),
    )
    (action,) = scale_up(picky, CATALOG, Constraints(), diverse).actions
    assert action.instance_type == "m.xlarge" and action.alternatives == ()


def test_an_interruption_notice_replaces_the_node_ahead_of_time() -> None:
    doomed = node(
        "spot-1",
        "m.xlarge",
        3920,
        15,
        capacity_type="spot",
        taints=(Taint("aws-node-termination-handler/spot-itn", "", "NoSchedule"),),
    )
    full = node("n1", "m.xlarge", 3920, 15)
    pods = (
        pod("busy", 3800, 14, node_name="n1"),
        pod("web-0", 1000, 3, app="web", node_name="spot-1", phase="Running"),
        pod("web-1", 1000, 3, app="web", node_name="spot-1", phase="Running"),
        dataclasses.replace(daemonset_pod("agent"), node_name="spot-1"),
    )
    result = plan_cycle(Snapshot((full, doomed), pods), CATALOG, Constraints(), SPOT, now=0.0)
    adds = [a for a in result.actions if isinstance(a, AddNodes)]
    assert sorted(p for a in adds for p in a.pods) == ["default/web-0", "default/web-1"]
    assert "2 of them from spot-1" in adds[0].reason
    rest = [(type(a), a.node) for a in result.actions if not isinstance(a, AddNodes)]
    assert rest == [(CordonNode, "spot-1"), (DrainNode, "spot-1"), (DeleteNode, "spot-1")]
    labelled = dataclasses.replace(doomed, taints=(), labels={**doomed.labels, INTERRUPTION_LABEL: "true"})
    again = plan_cycle(Snapshot((full, labelled), pods), CATALOG, Constraints(), SPOT, now=0.0)
    assert [a.kind for a in again.actions] == [a.kind for a in result.actions]
