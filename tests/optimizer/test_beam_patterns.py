"""beam_patterns: whole-pod node combinations worth more than their price, found pod by pod."""

from __future__ import annotations

import itertools

import numpy as np
from opt_helpers import polish_rounded, problem

from builders import catalog, hostname_anti_affinity, itype, pod
from kubewise.catalog.loading import load_region
from kubewise.optimizer.beam_patterns import MAX_PODS, beam_patterns, block_beam
from kubewise.optimizer.polish import PolishBudget
from kubewise.optimizer.pricing import PatternPricer, make_blocks
from kubewise.simulator import generate

CAT = catalog(itype("big", 8, 32, 0.40), itype("huge", 16, 64, 0.80))


def _random_block(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    n = 7
    demand = np.stack([rng.integers(1500, 6000, n), rng.integers(2, 20, n), np.ones(n, dtype=int)], axis=1)
    room = np.array([12000, 40, 58])
    value = rng.uniform(0.05, 0.4, n)
    cap = rng.integers(1, 4, n)
    demand[seed % n, 1] = 0  # a pod that needs none of a resource the others fill
    return demand.astype(np.int64), value, cap.astype(np.int64), room.astype(np.int64), 0.6


def _brute_force(demand, value, cap, room, price) -> set[tuple[tuple[int, ...], tuple[int, ...]]]:  # type: ignore[no-untyped-def]
    out = set()
    for counts in itertools.product(*(range(int(c) + 1) for c in cap)):
        x = np.array(counts)
        if 0 < x.sum() <= MAX_PODS and (x @ demand <= room).all() and x @ value > price * (1 + 1e-9):
            items = np.nonzero(x)[0]
            out.add((tuple(items.tolist()), tuple(x[items].tolist())))
    return out


def test_a_wide_enough_search_finds_every_paying_node_and_nothing_else() -> None:
    for seed in range(5):
        demand, value, cap, room, price = _random_block(seed)
        found = block_beam(demand, value, cap, room, price, width=10**6, keep=10**6)
        got = {(tuple(i.tolist()), tuple(c.tolist())) for i, c in found}
        assert len(got) == len(found)  # each combination once
        assert got == _brute_force(demand, value, cap, room, price)
        assert got  # the instances are built so that some nodes pay


def test_keep_returns_the_nodes_worth_most_best_first() -> None:
    for seed in range(5):
        demand, value, cap, room, price = _random_block(seed)
        every = _brute_force(demand, value, cap, room, price)
        worth = sorted((float(np.array(c) @ value[list(i)]) for i, c in every), reverse=True)
        found = block_beam(demand, value, cap, room, price, width=10**6, keep=3)
        assert len(found) == min(3, len(every))
        got = [float(c @ value[i]) for i, c in found]
        assert got == sorted(got, reverse=True)
        assert np.allclose(got, worth[: len(got)])


def test_a_narrow_search_returns_only_nodes_that_fit_and_pay() -> None:
    for seed in range(5):
        demand, value, cap, room, price = _random_block(seed)
        found = block_beam(demand, value, cap, room, price, width=4, keep=10**6)
        assert found
        for items, counts in found:
            assert (counts <= cap[items]).all() and (counts > 0).all()
            assert (counts @ demand[items] <= room).all()
            assert counts @ value[items] > price


def test_blocks_of_many_small_pods_are_left_to_the_lp_rounding() -> None:
    demand = np.array([[100, 1, 1], [200, 2, 1]], dtype=np.int64)
    room = np.array([16000, 64, 110], dtype=np.int64)  # room for far more than MAX_PODS pods
    assert block_beam(demand, np.array([0.1, 0.2]), np.array([50, 50]), room, 0.5, 100, 100) == []


def _pricer_and_duals(pods: list) -> tuple[PatternPricer, np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    p = problem(pods, CAT)
    blocks = make_blocks(range(len(p.cs.candidates)), p.rows, len(p.cs.zones))
    pricer = PatternPricer(p.cs, p.rows, p.rules, blocks, range(len(blocks.cand)))
    return pricer, p.lb.pod_value[p.rows.klass] * 1.3, p.rows.count


def test_patterns_respect_each_rows_waiting_pods_and_the_blocks_fit() -> None:
    pods = [pod(f"p{i}-{j}", 2100 + 700 * i, 6.0 + 3 * i, app=f"a{i}") for i in range(5) for j in range(2)]
    pricer, duals, waiting = _pricer_and_duals(pods)
    found = beam_patterns(pricer, range(len(pricer.prices)), duals, waiting, 50, 200, 1000, 1000)
    assert found
    for pat in found:
        assert pricer.fits[pat.rows, pat.block].all()
        assert (pat.counts <= waiting[pat.rows]).all()
        assert (pat.counts @ pricer.demand[pat.rows] <= pricer.room[pat.block]).all()
        assert float(duals[pat.rows] @ pat.counts) > pricer.prices[pat.block]


def test_max_blocks_searches_the_blocks_the_knapsack_lp_values_most_per_price() -> None:
    pods = [pod(f"p{i}-{j}", 2100 + 700 * i, 6.0 + 3 * i, app=f"a{i}") for i in range(5) for j in range(2)]
    pricer, duals, waiting = _pricer_and_duals(pods)
    every = np.arange(len(pricer.prices), dtype=np.int64)
    paying, worth = pricer.may_pay(every, duals, waiting, -1e-6)
    assert len(paying) > 1
    best = int(paying[np.argmax(worth / pricer.prices[paying])])
    found = beam_patterns(pricer, every, duals, waiting, 50, 200, 1000, 1)
    assert found and {p.block for p in found} == {best}
    per_block = beam_patterns(pricer, every, duals, waiting, 50, 200, 2, 1000)
    assert max(sum(p.block == b for p in per_block) for b in paying.tolist()) == 2


def test_blocks_skipped_by_their_knapsack_bound_hold_no_paying_node() -> None:
    pods = [pod(f"p{i}-{j}", 2100 + 700 * i, 6.0 + 3 * i, app=f"a{i}") for i in range(5) for j in range(2)]
    pricer, duals, waiting = _pricer_and_duals(pods)
    every = list(range(len(pricer.prices)))
    blocks = np.arange(len(every), dtype=np.int64)
    sizes = []
    for scale in (1.0, 0.5):  # at half the duals fewer blocks may pay, and the filter must follow
        kept = set(pricer.may_pay(blocks, duals * scale, waiting, -1e-6)[0].tolist())
        sizes.append(len(kept))
        for b in set(every) - kept:  # an exhaustive search on a skipped block finds nothing
            rows = np.nonzero(pricer.fits[:, b] & (waiting > 0))[0]
            cap = np.minimum(pricer.per_node[rows, b], waiting[rows])
            price = float(pricer.prices[b])
            assert not block_beam(
                pricer.demand[rows], duals[rows] * scale, cap, pricer.room[b], price, 10**6, 1
            )
    assert sizes[0] > 0 and sizes[1] < len(every)  # some blocks are searched, some are ruled out


def test_no_search_where_per_node_rules_apply() -> None:
    anti = hostname_anti_affinity("b")  # a's pods may not share a node with b's
    pods = [pod(f"a{i}", 3800, 8.0, app="a", pod_anti_affinity=anti) for i in range(4)]
    pods += [pod(f"b{i}", 2500, 8.0, app="b") for i in range(4)]
    pricer, duals, waiting = _pricer_and_duals(pods)
    assert not pricer.rules.trivial
    assert beam_patterns(pricer, range(len(pricer.prices)), duals, waiting, 50, 200, 1000, 1000) == []


def test_the_search_makes_plans_of_large_pods_cheaper() -> None:
    p = problem(list(generate("few-huge", 300, 1).pods), load_region("aws", "us-east-1"))
    costs = []
    for rounds in (0, PolishBudget().beam_rounds):
        _, out, stats = polish_rounded(p, PolishBudget(beam_rounds=rounds))
        assert (stats.extra.get("beam_searches", 0) > 0) == (rounds > 0)
        costs.append(out.price(p.prices))
    assert costs[1] <= 0.99 * costs[0]  # measured: 353.24 -> 348.16 $/h, 1.4 % cheaper


def test_nodes_of_a_few_one_per_node_pods_are_searched_too() -> None:
    # hostname anti-affinity against their own pods: the bound LP's nodes hold four to five pods each
    p = problem(list(generate("anti-affinity", 300, 1).pods), load_region("aws", "us-east-1"))
    pods_per_node = float(p.rows.count.sum()) / float(p.lb.nodes.sum())
    assert 3.0 < pods_per_node <= PolishBudget().beam_pods_per_node
    costs = []
    for limit in (3.0, PolishBudget().beam_pods_per_node):
        _, out, stats = polish_rounded(p, PolishBudget(beam_pods_per_node=limit))
        assert (stats.extra.get("beam_searches", 0) > 0) == (limit >= pods_per_node)
        costs.append(out.price(p.prices))
    assert costs[1] < costs[0]  # measured: 3.778 -> 3.743 $/h
