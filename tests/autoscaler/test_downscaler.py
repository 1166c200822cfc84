"""Empty-node removal: DaemonSet-only nodes after the delay, never a node with other pods."""

from __future__ import annotations

import dataclasses

from builders import daemonset_pod, node, pod
from kubewise.autoscaler import REMOVAL_DISABLED_LABEL, AutoscalerPolicy, CordonNode, DeleteNode, empty_nodes
from kubewise.model import Snapshot

ON = AutoscalerPolicy(enabled=True, node_downscaler=True, empty_nodes=True, empty_delay_seconds=300)


def _snap(*pods: object) -> Snapshot:
    nodes = tuple(node(f"n{i}", "m.xlarge", 4000, 16) for i in range(1, 4))
    return Snapshot(nodes, tuple(pods))  # type: ignore[arg-type]


def _on(p: object, name: str) -> object:
    return dataclasses.replace(p, node_name=name)  # type: ignore[type-var]


def test_only_after_the_delay_and_daemonset_only_counts_as_empty() -> None:
    snap = _snap(_on(pod("web", 500, 1, app="web"), "n1"), _on(daemonset_pod("agent"), "n2"))
    first = empty_nodes(snap, ON, now=1000.0, empty_since={})
    assert first.actions == () and first.empty_since == {"n2": 1000.0, "n3": 1000.0}
    assert "of nodeDownscaler.emptyNodes.delaySeconds=300" in first.kept["n2"]
    later = empty_nodes(snap, ON, now=1300.0, empty_since=first.empty_since)
    assert [(type(a), a.node) for a in later.actions] == [
        (CordonNode, "n2"),
        (DeleteNode, "n2"),
        (CordonNode, "n3"),
        (DeleteNode, "n3"),
    ]
    assert "only DaemonSet pods for 300s" in later.actions[1].reason


def test_a_node_that_got_pods_again_starts_over() -> None:
    snap = _snap(_on(pod("web", 500, 1), "n2"))
    result = empty_nodes(snap, ON, now=5000.0, empty_since={"n2": 0.0})
    assert "n2" not in result.empty_since and all(a.node != "n2" for a in result.actions)


def test_kept_by_label_pending_pods_and_min_cores() -> None:
    nodes = (
        node("keep", "m.xlarge", 4000, 16, labels={REMOVAL_DISABLED_LABEL: "true"}),
        node("room", "m.xlarge", 4000, 16),
    )
    snap = Snapshot(nodes, (pod("waiting", 1000, 2),))
    result = empty_nodes(snap, ON, now=1000.0, empty_since={"keep": 0.0, "room": 0.0})
    assert result.actions == ()
    assert REMOVAL_DISABLED_LABEL in result.kept["keep"] and "pending pod" in result.kept["room"]
    limited = dataclasses.replace(ON, cluster_limits=True, min_cores=12, max_cores=20)
    result = empty_nodes(_snap(), limited, now=1000.0, empty_since={"n1": 0.0, "n2": 0.0, "n3": 0.0})
    assert [a.node for a in result.actions if isinstance(a, DeleteNode)] == []  # 12 cores, min 12
    assert "under clusterLimits.cpu.minCores=12" in result.kept["n1"]


def test_disabled_downscaler_only_keeps_time() -> None:
    off = dataclasses.replace(ON, node_downscaler=False)
    result = empty_nodes(_snap(), off, now=9999.0, empty_since={"n1": 0.0})
    assert result.actions == () and result.empty_since["n1"] == 0.0
