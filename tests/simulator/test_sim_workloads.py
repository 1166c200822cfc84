"""Synthetic workload generator: determinism per seed, exact counts, and the shape each kind promises."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from kubewise.model import CPU, GPU_NVIDIA, MEMORY, PODS, OwnerKind, Pod, Snapshot
from kubewise.simulator import KINDS, deployments, generate

GIB = 1024**3
MIB = 1024**2


def movable(snapshot: Snapshot) -> list[Pod]:
    return [p for p in snapshot.pods if not p.is_daemonset]


def by_deployment(pods: list[Pod]) -> dict[str, list[Pod]]:
    groups: dict[str, list[Pod]] = defaultdict(list)
    for p in pods:
        groups[p.owner_name].append(p)
    return groups


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_snapshot_other_seed_other_snapshot(kind: str) -> None:
    first, again = generate(kind, 300, seed=7), generate(kind, 300, seed=7)
    assert first == again
    assert [p.name for p in first.pods] == [p.name for p in again.pods]
    assert first != generate(kind, 300, seed=8)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [0, 1, 37, 500])
def test_exact_pod_count_plus_one_pod_per_daemonset(kind: str, n: int) -> None:
    snap = generate(kind, n, seed=1)
    assert len(movable(snap)) == n
    daemonsets = [p for p in snap.pods if p.is_daemonset]
    assert len(daemonsets) == 3 == len({p.owner_name for p in daemonsets})
    assert all(p.node_name == "" and p.requests[CPU] <= 200 for p in daemonsets)
    assert snap.nodes == ()


@pytest.mark.parametrize("kind", KINDS)
def test_pods_are_pending_deployment_replicas_with_unique_names(kind: str) -> None:
    pods = movable(generate(kind, 400, seed=3))
    assert len({p.key for p in pods}) == len(pods)
    for p in pods:
        assert p.node_name == "" and p.phase == "Pending"
        assert p.owner_kind == OwnerKind.DEPLOYMENT and p.labels["app"] == p.owner_name
        assert p.requests[PODS] == 1 and p.requests[CPU] > 0 and p.requests[MEMORY] > 0
    for name, replicas in by_deployment(pods).items():
        assert (
            len({(p.requests, p.pod_anti_affinity, p.topology_spread, p.namespace) for p in replicas}) == 1
        ), name
        assert replicas[0].labels["pod-template-hash"] in replicas[0].name


def test_deployment_specs_sum_to_the_requested_pods() -> None:
    for kind in KINDS:
        specs = deployments(kind, 1234, seed=5)
        assert sum(s.replicas for s in specs) == 1234
        assert len({s.name for s in specs}) == len(specs)
        assert all(s.replicas >= 1 for s in specs)


def test_uniform_is_one_shape() -> None:
    pods = movable(generate("uniform", 500, seed=2))
    assert {(p.requests[CPU], p.requests[MEMORY]) for p in pods} == {(500, GIB)}
    assert len(by_deployment(pods)) > 5


def test_skewed_is_heavy_tailed_with_cpu_and_memory_heavy_deployments() -> None:
    pods = movable(generate("skewed", 3000, seed=2))
    cpus = sorted(p.requests[CPU] for p in pods)
    assert cpus[len(cpus) // 2] <= 600  # the typical pod is small...
    assert cpus[-1] >= 4000  # ...and the tail is large
    ratios = {p.requests[MEMORY] / GIB / (p.requests[CPU] / 1000) for p in pods}
    assert min(ratios) <= 1.5 and max(ratios) >= 8  # cpu-heavy and memory-heavy shapes


def test_gpu_kind_mixes_gpu_sizes_with_ordinary_pods() -> None:
    pods = movable(generate("gpu", 2000, seed=4))
    gpus = Counter(p.requests[GPU_NVIDIA] for p in pods)
    assert set(gpus) == {0, 1, 2, 4, 8}
    assert 0.2 <= 1 - gpus[0] / len(pods) <= 0.4
    for p in pods:
        if p.requests[GPU_NVIDIA]:
            assert p.requests[CPU] >= 2000 * p.requests[GPU_NVIDIA]
            assert any(t.key == GPU_NVIDIA for t in p.tolerations)


def test_many_small_and_few_huge_ranges() -> None:
    small = movable(generate("many-small", 1000, seed=6))
    assert all(50 <= p.requests[CPU] <= 200 and 64 * MIB <= p.requests[MEMORY] <= 256 * MIB for p in small)
    huge = movable(generate("few-huge", 200, seed=6))
    assert all(8000 <= p.requests[CPU] <= 60000 and 32 * GIB <= p.requests[MEMORY] <= 400 * GIB for p in huge)
    assert max(len(g) for g in by_deployment(huge).values()) <= 4


def test_anti_affinity_kind_uses_hostname_terms_and_some_zone_spread() -> None:
    pods = movable(generate("anti-affinity", 1000, seed=8))
    for p in pods:
        (term,) = p.pod_anti_affinity
        assert term.topology_key == "kubernetes.io/hostname" and term.selector.matches(p.labels)
    spread = [p for p in pods if p.topology_spread]
    assert 0 < len(spread) < len(pods)
    for p in spread:
        (c,) = p.topology_spread
        assert (c.max_skew, c.when_unsatisfiable, c.topology_key) == (
            1,
            "DoNotSchedule",
            "topology.kubernetes.io/zone",
        )


def test_realistic_mixes_the_other_kinds() -> None:
    pods = movable(generate("realistic", 5000, seed=9))
    tags = Counter(p.owner_name.split("-")[1] for p in pods)
    assert set(tags) == {"skw", "sml", "aff", "uni", "gpu", "gpx", "big"}
    assert tags["skw"] == 2000 and tags["sml"] == 1250


def test_unknown_kind_and_negative_count_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown workload kind 'tiny'"):
        generate("tiny", 10, seed=1)
    with pytest.raises(ValueError, match="n_pods"):
        generate("uniform", -1, seed=1)
