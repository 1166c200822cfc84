"""The benchmarks' first-fit-decreasing baseline: one type per run, chosen and packed as documented."""

from __future__ import annotations

import pytest
from benchmarks.baseline_ffd import plan_ffd

from builders import daemonset_pod, hostname_anti_affinity, itype, pod
from kubewise.catalog.types import RegionCatalog
from kubewise.model import Snapshot

CATALOG = RegionCatalog(
    "aws",
    "us-east-1",
    (
        itype("small.large", 2, 8, 0.08),  # cheapest per resource, but too small for the 3-core pod
        itype("mid.xlarge", 4, 16, 0.20),  # 0.20 / (4 + 4) = 0.025 per unit
        itype("big.4xlarge", 16, 64, 0.96),  # 0.96 / (16 + 16) = 0.030 per unit
        itype("gpu.small", 8, 32, 1.00, gpu=1),  # 1.00 per GPU
        itype("gpu.big", 32, 128, 3.20, gpu=4),  # 0.80 per GPU: the pick
    ),
)


def test_one_type_cheapest_per_unit_among_those_that_run_every_pod() -> None:
    pods = [pod(f"p{i}", 500, 1.0, app="web") for i in range(10)] + [pod("wide", 3000, 2.0, app="wide")]
    plan = plan_ffd(Snapshot(pods=(*pods, daemonset_pod("proxy"))), CATALOG)
    assert list(plan.nodes_by_type) == ["mid.xlarge"]
    # 3920m allocatable - 100m DaemonSet per node: [3000 + 500], [7 x 500], [2 x 500]
    assert plan.node_count == 3
    assert plan.hourly_cost == pytest.approx(3 * 0.20) and not plan.unplaced


def test_hostname_anti_affinity_opens_one_node_per_replica() -> None:
    pods = [
        pod(f"db{i}", 100, 0.25, app="db", pod_anti_affinity=hostname_anti_affinity("db")) for i in range(3)
    ]
    plan = plan_ffd(Snapshot(pods=tuple(pods)), CATALOG)
    assert plan.nodes_by_type == {"small.large": 3}


def test_gpu_pods_get_the_cheapest_type_per_gpu_separately() -> None:
    pods = [pod("cpu", 500, 1.0, app="cpu"), pod("train", 4000, 16.0, app="train", gpu=1)]
    plan = plan_ffd(Snapshot(pods=tuple(pods)), CATALOG)
    assert plan.nodes_by_type == {"small.large": 1, "gpu.big": 1}


def test_pods_that_no_type_can_run_are_reported() -> None:
    plan = plan_ffd(Snapshot(pods=(pod("huge", 64000, 512.0, app="huge"),)), CATALOG)
    assert plan.node_count == 0 and [p.name for p in plan.unplaced] == ["huge"]
