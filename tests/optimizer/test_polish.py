"""polish: column generation from a finished plan, never worse than it."""

from __future__ import annotations

import random

import numpy as np
from opt_helpers import polish_rounded, problem

from builders import catalog, itype, pod
from kubewise.optimizer.consolidate import empty_weakest, retype
from kubewise.optimizer.polish import PolishBudget, _most_used, polish
from kubewise.optimizer.rounding import build_nodes

# Small nodes whose pod slots bind as well as memory: the bound LP splits pods, whole pods do not.
CAT = catalog(
    itype("t.small", 2, 2, 0.0168, max_pods=8),
    itype("t.medium", 2, 4, 0.0336, max_pods=14),
    itype("t.large", 2, 8, 0.0672, max_pods=32),
)


def _pods(seed: int = 0) -> list:
    rng = random.Random(seed)  # pods a few per node, so that which ones share a node matters
    cpu, mem_mib = [100, 200, 300, 500, 700], [256, 512, 768, 1024, 1536]
    return [pod(f"s-{i}", rng.choice(cpu), rng.choice(mem_mib) / 1024, app=f"a{i % 7}") for i in range(60)]


def test_polish_never_returns_a_dearer_plan_and_places_every_pod() -> None:
    p = problem(_pods(), CAT)
    before, out, stats = polish_rounded(p, PolishBudget())
    assert out.price(p.prices) <= before + 1e-9
    assert stats.lp_value <= before + 1e-9  # its LP starts from the plan's own nodes


def test_polish_finds_cheaper_packings_than_rounding_on_such_workloads() -> None:
    rounded = polished = bound = 0.0
    for seed in range(8):
        p = problem(_pods(seed), CAT)
        ns = p.node_set()
        build_nodes(ns, p.lb, p.resolve, p.prices)
        retype(ns, p.prices)
        empty_weakest(ns, p.prices, p.lb.pod_value, tries=50)
        out, _ = polish(ns, p.lb, p.prices, p.resolve, PolishBudget())
        assert p.lb.value - 1e-9 <= out.price(p.prices) <= ns.price(p.prices) + 1e-9
        rounded += ns.price(p.prices)
        polished += out.price(p.prices)
        bound += p.lb.value
    # rounding the bound LP leaves several percent here; column generation takes most of it back
    assert polished <= rounded - 0.25 * (rounded - bound)


def test_rounding_fixes_the_most_used_patterns_a_share_at_a_time() -> None:
    whole = np.array([1, 3, 0, 2, 1], dtype=np.int64)
    z = np.array([1.2, 3.0, 0.4, 2.5, 1.9])
    assert _most_used(whole, z, 1.0).tolist() == whole.tolist()  # all of them at once
    # 7 whole nodes, 10 % of them: one node, but the most used pattern's three come together
    assert _most_used(whole, z, 0.1).tolist() == [0, 3, 0, 0, 0]
    assert _most_used(whole, z, 0.8).tolist() == [0, 3, 0, 2, 1]  # 5.6 -> 6 nodes, whole patterns


def test_fixing_a_share_at_a_time_still_places_every_pod() -> None:
    p = problem(_pods(3), CAT)  # five pods per bound-LP node: few enough for the share to apply
    fixes = []
    for share in (1.0, 0.1):
        before, out, stats = polish_rounded(p, PolishBudget(fix_share=share))
        assert out.price(p.prices) <= before + 1e-9
        fixes.append(stats.fixes)
    assert fixes[1] > fixes[0]  # smaller steps: more re-solves (measured 9 -> 13)
