"""solve_lower_bound against the full bound LP (every class on every candidate), solved directly.

That it never exceeds the cost of the best plan is checked exhaustively in test_lower_bound_exact."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from opt_helpers import problem
from scipy.optimize import linprog

from builders import hostname_anti_affinity, pod, small_catalog
from kubewise.model import Snapshot
from kubewise.optimizer import Constraints, plan_snapshot
from kubewise.optimizer.candidates import share_matrix
from kubewise.optimizer.lower_bound import CUT_LIMIT, solve_lower_bound


def _full_lp(cs, counts) -> float:
    """min price.x  s.t. every pod placed, resources per candidate, per-node limits -- all pairs at once."""
    share = share_matrix(cs)
    n_cls, n_cand, n_res = share.shape
    pairs = np.argwhere(cs.fits & (counts[:, None] > 0))
    n_pairs = len(pairs)
    eq = sp.coo_matrix(
        (np.ones(n_pairs), (pairs[:, 0], n_cand + np.arange(n_pairs))), shape=(n_cls, n_cand + n_pairs)
    )
    rows, cols, vals = [], [], []
    for r in range(n_res):
        rows += [r * n_cand + pairs[:, 1], r * n_cand + np.arange(n_cand)]
        cols += [n_cand + np.arange(n_pairs), np.arange(n_cand)]
        vals += [share[pairs[:, 0], pairs[:, 1], r], -np.ones(n_cand)]
    caps = cs.per_node[pairs[:, 0], pairs[:, 1]]
    capped = np.nonzero(caps < CUT_LIMIT)[0]
    base = n_res * n_cand
    rows += [base + np.arange(len(capped))] * 2
    cols += [n_cand + capped, pairs[capped, 1]]
    vals += [np.ones(len(capped)), -caps[capped].astype(float)]
    ub = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(base + len(capped), n_cand + n_pairs),
    )
    prices = np.array([c.price for c in cs.candidates])
    res = linprog(
        np.concatenate([prices, np.zeros(n_pairs)]),
        A_ub=ub.tocsr(),
        b_ub=np.zeros(ub.shape[0]),
        A_eq=eq.tocsr(),
        b_eq=counts.astype(float),
        method="highs",
    )
    assert res.status == 0
    return float(res.fun)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(50, 7000), st.integers(1, 40), st.integers(1, 6), st.booleans(), st.integers(0, 2)
        ),
        min_size=1,
        max_size=8,
    )
)
def test_bound_is_the_full_lp_optimum(shapes) -> None:
    pods = []
    for i, (cpu, mem_eighths, replicas, anti, gpu) in enumerate(shapes):
        rules = {"pod_anti_affinity": hostname_anti_affinity(f"d{i}")} if anti else {}
        pods += [
            pod(f"d{i}-{j}", cpu, mem_eighths / 8, app=f"d{i}", gpu=int(gpu == 2), **rules)
            for j in range(replicas)
        ]
    p = problem(pods, small_catalog())
    counts = np.bincount(p.rows.klass, weights=p.rows.count, minlength=len(p.cs.demand)).astype(np.int64)
    exact = _full_lp(p.cs, counts)
    lb = solve_lower_bound(p.cs, counts)
    # at least as tight as the full LP (it stops within 0.1 %, less a safety margin); merging classes
    # of one shape can only make it tighter
    assert lb.value >= exact * (1 - 2e-3) - 1e-9
    plan = plan_snapshot(Snapshot(pods=tuple(pods)), small_catalog(), Constraints(zones=("z1",)))
    assert not plan.unschedulable and lb.value <= plan.hourly_cost + 1e-9


def test_classes_of_one_shape_share_their_per_node_limit() -> None:
    # the same requests, but different labels that another pod's anti-affinity reads: separate classes
    watcher = pod("watch", 100, 0.1, app="watch", pod_anti_affinity=hostname_anti_affinity("x"))
    same = [pod(f"{app}-{i}", 700, 1.5, app=app) for app in ("x", "y", "z") for i in range(7)]
    p = problem([watcher, *same], small_catalog())
    counts = np.bincount(p.rows.klass, weights=p.rows.count, minlength=len(p.cs.demand)).astype(np.int64)
    assert len(p.cs.demand) >= 3
    lb = solve_lower_bound(p.cs, counts)
    # 21 pods of one shape, 7 per class: the LP with a limit per class lets each class fill a node
    # fractionally; a node holds at most per_node pods of that shape in all, which the merged LP knows
    assert lb.value > _full_lp(p.cs, counts) * 1.05
    plan = plan_snapshot(Snapshot(pods=(watcher, *same)), small_catalog(), Constraints(zones=("z1",)))
    assert lb.value <= plan.hourly_cost + 1e-9
    ks, _, y = lb.assignment
    assert np.bincount(ks, weights=y, minlength=len(counts)) == pytest_approx(counts)


def pytest_approx(values):
    import pytest

    return pytest.approx(values.astype(float), rel=1e-6, abs=1e-6)


def test_a_pool_that_some_pods_need_costs_at_least_one_whole_node() -> None:
    from builders import node
    from kubewise.model import Taint, Toleration

    pool = {"workload": "batch"}
    current = (node("batch-1", "m.xlarge", 3900, 14, labels=pool, taints=(Taint("dedicated", "batch"),)),)
    tol = (Toleration("dedicated", "Equal", "batch", "NoSchedule"),)
    job = pod("job", 100, 0.25, app="job", node_selector=pool, tolerations=tol, node_name="batch-1")
    plan = plan_snapshot(Snapshot(nodes=current, pods=(job,)), small_catalog(), Constraints())
    cheapest = min(t.on_demand_price for t in small_catalog().types if t.arch == "amd64" and not t.gpu)
    # the pod takes 5 % of the smallest node, but a plan cannot buy 5 % of a node
    assert plan.lower_bound >= cheapest * (1 - 1e-5)
    assert plan.lower_bound <= plan.hourly_cost + 1e-9
