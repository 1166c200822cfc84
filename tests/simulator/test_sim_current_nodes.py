"""`generate(..., with_nodes=True)`: an over-provisioned current node set whose bindings are valid."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from kubewise.model import CPU, GPU_NVIDIA, PODS, Pod, Resources
from kubewise.simulator import generate


@pytest.mark.parametrize("kind", ["realistic", "anti-affinity", "uniform"])
def test_bound_pods_fit_their_node_and_keep_their_rules(kind: str) -> None:
    snap = generate(kind, 1500, seed=11, with_nodes=True)
    nodes = {n.name: n for n in snap.nodes}
    assert len(nodes) == len(snap.nodes) >= 3
    on_node: dict[str, list[Pod]] = defaultdict(list)
    for p in snap.pods:
        if p.node_name:
            on_node[p.node_name].append(p)
    for name, pods in on_node.items():
        used = Resources({CPU: 0})
        for p in pods:
            used = used + p.requests
        assert used.fits_in(nodes[name].allocatable), name
        anti = Counter(p.owner_name for p in pods if p.pod_anti_affinity)
        assert all(c == 1 for c in anti.values())
    zone_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for p in snap.pods:
        if p.topology_spread and p.node_name:
            zone_counts[p.owner_name][nodes[p.node_name].zone] += 1
    for counts in zone_counts.values():
        values = [counts.get(z, 0) for z in ("us-east-1a", "us-east-1b", "us-east-1c")]
        assert max(values) - min(values) <= 1


def test_node_set_is_m5_2xlarge_over_three_zones_and_over_provisioned() -> None:
    snap = generate("realistic", 3000, seed=12, with_nodes=True)
    assert {n.instance_type for n in snap.nodes} == {"m5.2xlarge"}
    assert Counter(n.zone for n in snap.nodes) == {
        z: len(snap.nodes) // 3 for z in ("us-east-1a", "us-east-1b", "us-east-1c")
    }
    assert all(n.capacity_type == "on-demand" and n.allocatable[PODS] == 58 for n in snap.nodes)
    bound = [p for p in snap.pods if p.node_name and not p.is_daemonset]
    cpu_share = sum(p.requests[CPU] for p in bound) / sum(n.allocatable[CPU] for n in snap.nodes)
    assert 0.3 <= cpu_share <= 0.55
    # exactly what cannot run on an m5.2xlarge next to the DaemonSets (GPU or huge pods) stays pending
    overhead = Resources({CPU: 0})
    for p in snap.pods:
        if p.is_daemonset and p.node_name == snap.nodes[0].name:
            overhead = overhead + p.requests
    room = snap.nodes[0].allocatable - overhead
    pending = [p for p in snap.pods if not p.node_name]
    assert pending and all(not p.requests.fits_in(room) for p in pending)
    assert any(p.requests[GPU_NVIDIA] for p in pending)


def test_every_node_runs_each_daemonset_once() -> None:
    snap = generate("skewed", 800, seed=13, with_nodes=True)
    ds = Counter((p.node_name, p.owner_name) for p in snap.pods if p.is_daemonset)
    assert set(ds.values()) == {1}
    assert len(ds) == 3 * len(snap.nodes)
    assert generate("skewed", 800, seed=13, with_nodes=True) == snap
