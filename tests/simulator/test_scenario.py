"""`simulate`: the real autoscaler on a simulated cluster and cloud, against automation off."""

from __future__ import annotations

import dataclasses

import pytest

from builders import daemonset_pod, node, pod, small_catalog
from kubewise.autoscaler import SPOT_FALLBACK_LABEL, AutoscalerPolicy
from kubewise.model import Snapshot
from kubewise.simulator import ScenarioError, parse_scenario, simulate

ALL_ON = {
    "enabled": True,
    "unschedulablePods": {"enabled": True},
    "nodeDownscaler": {"enabled": True, "emptyNodes": {"enabled": True, "delaySeconds": 300}},
    "evictor": {"enabled": True, "cycleInterval": 300},
}


def _cluster() -> Snapshot:
    nodes = tuple(
        node(f"n{i}", "m.xlarge", 3920, 15, capacity_type="spot" if i == 2 else "on-demand") for i in range(3)
    )
    pods = [
        dataclasses.replace(daemonset_pod("agent"), name=f"agent-{n.name}", node_name=n.name) for n in nodes
    ]
    pods += [pod(f"web-{i}", 1000, 2, app="web", node_name=f"n{i % 3}", phase="Running") for i in range(9)]
    return Snapshot(nodes, tuple(pods))


def _scenario(events: list[dict[str, object]], policies: dict[str, object] = ALL_ON) -> object:
    return parse_scenario(
        {"duration_minutes": 60, "provisioning_seconds": 120, "policies": policies, "events": events}
    )


def test_a_scale_up_is_served_and_a_scale_down_gives_nodes_back() -> None:
    scenario = _scenario(
        [
            {"at_minute": 5, "scale": {"owner": "web", "replicas": 20}},
            {"at_minute": 30, "scale": {"owner": "web", "replicas": 3}},
        ]
    )
    on = simulate(scenario, _cluster(), small_catalog())  # type: ignore[arg-type]
    off = simulate(scenario, _cluster(), small_catalog(), AutoscalerPolicy())  # type: ignore[arg-type]
    assert on.pending_pod_minutes(60) < off.pending_pod_minutes(60)
    assert on.timeline[-1][2] == 0  # nothing pending at the end
    peak = max(n for _, _, _, n in on.timeline)
    assert peak > 3 and on.timeline[-1][3] < peak  # nodes were added, then given back
    assert on == simulate(scenario, _cluster(), small_catalog())  # type: ignore[arg-type]  # deterministic


def test_a_spot_interruption_is_replaced_ahead_of_time() -> None:
    scenario = _scenario([{"at_minute": 10, "interrupt_spot": 1}])
    on = simulate(scenario, _cluster(), small_catalog())  # type: ignore[arg-type]
    off = simulate(scenario, _cluster(), small_catalog(), AutoscalerPolicy())  # type: ignore[arg-type]
    assert on.interruptions == off.interruptions == 1
    assert off.timeline[-1][2] > 0  # without automation the reclaimed node's pods wait for good
    assert on.timeline[-1][2] == 0 and on.pending_pod_minutes(60) < off.pending_pod_minutes(60)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "must be a mapping"),
        ({"duration_minutes": -5}, "duration_minutes: must be a positive number"),
        ({"policies": "on"}, "policies: must be a mapping"),
        ({"events": [{"at_minute": 5}]}, "events[0]: needs scale or interrupt_spot"),
        ({"events": [{"scale": {"owner": "web"}}]}, "events[0].scale: needs owner and replicas"),
        ({"events": [{"scale": {"owner": "web", "replicas": -1}}]}, "events[0].scale.replicas"),
    ],
)
def test_malformed_scenarios_name_the_field(doc: object, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario(doc)


def test_no_spot_capacity_falls_back_to_on_demand_only_with_spot_backups() -> None:
    no_spot = {(t.name, "spot") for t in small_catalog()}
    events = [{"at_minute": 5, "scale": {"owner": "web", "replicas": 15}}]
    spot = {"enabled": True, "unschedulablePods": {"enabled": True}, "spotInstances": {"enabled": True}}
    stuck = simulate(_scenario(events, spot), _cluster(), small_catalog(), shortages=set(no_spot))  # type: ignore[arg-type]
    assert stuck.timeline[-1][2] > 0  # spot only, and the cloud has none: the pods wait
    backups = {**spot, "spotInstances": {"enabled": True, "spotBackups": {"enabled": True}}}
    served = simulate(_scenario(events, backups), _cluster(), small_catalog(), shortages=set(no_spot))  # type: ignore[arg-type]
    assert served.timeline[-1][2] == 0 and served.timeline[-1][3] > 3  # on-demand nodes were added


def test_fallback_nodes_go_back_to_spot_once_the_shortage_is_over() -> None:
    shortage = {(t.name, "spot") for t in small_catalog()}
    ended_at = 15 * 60.0
    spot_nodes: list[tuple[float, int, int]] = []  # (t, spot nodes, fallback nodes)

    def watch(t: float, cluster: Snapshot) -> None:
        if t >= ended_at:
            shortage.clear()  # the cloud has spot capacity again
        spot = sum(1 for n in cluster.nodes if n.capacity_type == "spot")
        fallback = sum(1 for n in cluster.nodes if n.labels.get(SPOT_FALLBACK_LABEL) == "true")
        spot_nodes.append((t, spot, fallback))

    policies = {
        "enabled": True,
        "unschedulablePods": {"enabled": True},
        "spotInstances": {
            "enabled": True,
            "spotBackups": {"enabled": True, "spotBackupRestoreRateSeconds": 600},
        },
    }
    scenario = parse_scenario(
        {
            "duration_minutes": 90,
            "provisioning_seconds": 120,
            "policies": policies,
            "events": [{"at_minute": 5, "scale": {"owner": "web", "replicas": 15}}],
        }
    )
    outcome = simulate(scenario, _cluster(), small_catalog(), observe=watch, shortages=shortage)
    peak_fallback = max(f for _, _, f in spot_nodes)
    assert peak_fallback > 0  # the scale-up ran on-demand while spot could not be had
    # the capacity report lasts 30 minutes; then, within a restore period, the fallback nodes go
    _, spot_end, fallback_end = spot_nodes[-1]
    assert fallback_end == 0 and spot_end > 1
    assert outcome.timeline[-1][2] == 0 and outcome.lost_pods == 0
