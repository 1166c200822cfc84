"""BlockKnapsack's cut rows: they bind the candidate they belong to and no other."""

from __future__ import annotations

import numpy as np

from kubewise.optimizer.knapsack import BlockKnapsack


def test_a_cut_row_bounds_its_candidates_knapsack_only() -> None:
    # two classes on two identical candidates; each class takes 0.6 of the one resource
    share = np.full((2, 2, 1), 0.6)
    caps = np.ones((2, 2))
    fits = np.ones((2, 2), dtype=bool)
    value = np.array([1.0, 1.0])
    plain = BlockKnapsack(share, caps, fits, np.array([0, 1]))
    worth, _, prices = plain.solve(value)
    assert np.allclose(worth, 1.0 / 0.6)
    # whole pods: one per node, so value . y <= 1 on every node of candidate 1
    cut = BlockKnapsack(share, caps, fits, np.array([0, 1]), {1: [(value.copy(), 1.0)]})
    worth_cut, y, prices_cut = cut.solve(value)
    assert np.allclose(worth_cut, [1.0 / 0.6, 1.0])
    assert prices_cut.shape == prices.shape == (2, 1)
    assert y[cut.pos == 1].sum() <= 1.0 + 1e-9
