"""The planner's progress reports: the share of the work done only grows, ends at 1, names what runs,
and listening changes nothing in the plan."""

from __future__ import annotations

import pytest

from kubewise.catalog.loading import load_region
from kubewise.optimizer import Constraints, Plan, plan_snapshot
from kubewise.optimizer.progress import part
from kubewise.simulator import generate


def _layout(plan: Plan) -> list[tuple[str, str, list[str]]]:
    return [(n.name, n.instance_type.name, sorted(p.key for p in n.pods)) for n in plan.nodes]


def test_part_maps_a_stage_onto_its_share_of_the_bar_and_clamps() -> None:
    heard: list[tuple[float, str]] = []
    stage = part(lambda done, what: heard.append((done, what)), 0.2, 0.6)
    for done in (0.0, 0.5, 1.0, 1.7, -0.3):
        stage(done, "x")
    assert heard == [(0.2, "x"), (pytest.approx(0.4), "x"), (0.6, "x"), (0.6, "x"), (0.2, "x")]


@pytest.mark.parametrize(("kind", "pods"), [("anti-affinity", 120), ("skewed", 200)])
def test_plan_reports_growing_progress_through_every_stage(kind: str, pods: int) -> None:
    snapshot, catalog = generate(kind, pods, 7), load_region("aws", "us-east-1")
    heard: list[tuple[float, str]] = []
    plan = plan_snapshot(snapshot, catalog, Constraints(), progress=lambda d, w: heard.append((d, w)))
    shares = [d for d, _ in heard]
    assert shares == sorted(shares) and shares[0] == 0.0 and heard[-1] == (1.0, "done")
    assert all(0.0 <= d <= 1.0 for d in shares)
    stages = {w.split(" (")[0] for _, w in heard}
    assert {
        "solving the lower bound",
        "building nodes",
        "pricing node patterns",
        "fixing whole nodes",
    } <= stages
    assert ("searching pod combinations" in stages) == (kind == "anti-affinity")  # few pods per node only
    fixing = [w for _, w in heard if w.startswith("fixing whole nodes")]
    assert fixing[0] == f"fixing whole nodes (0 of {pods:,} pods)"
    assert _layout(plan) == _layout(plan_snapshot(snapshot, catalog, Constraints()))
