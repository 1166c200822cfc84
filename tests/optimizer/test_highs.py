"""integer_knapsack_bound against brute force: never below the whole-item optimum, equal to it when
branch and bound may finish."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kubewise.optimizer.highs import integer_knapsack_bound


def _brute_force(value, weight, capacity, upper) -> float:
    best = 0.0
    for y in itertools.product(*(range(int(u) + 1) for u in upper)):
        y_arr = np.array(y, dtype=float)
        if np.all(weight.T @ y_arr <= capacity + 1e-9):
            best = max(best, float(value @ y_arr))
    return best


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.01, 5), st.integers(1, 60), st.integers(1, 60), st.integers(1, 3)),
        min_size=1,
        max_size=6,
    ),
    st.integers(20, 120),
    st.integers(20, 120),
)
def test_bound_is_the_whole_item_optimum(items, cap_a, cap_b) -> None:
    value = np.array([v for v, *_ in items])
    weight = np.array([[a, b] for _, a, b, _ in items], dtype=float)
    upper = np.array([u for *_, u in items], dtype=float)
    capacity = np.array([cap_a, cap_b], dtype=float)
    optimum = _brute_force(value, weight, capacity, upper)
    finished = integer_knapsack_bound(value, weight, capacity, upper, 100_000)
    assert finished is not None and abs(finished - optimum) <= 1e-6 * max(1.0, optimum)
    # stopped early, the bound may be looser (or None: nothing proven), never below the optimum
    stopped = integer_knapsack_bound(value, weight, capacity, upper, 1)
    assert stopped is None or stopped >= optimum - 1e-6 * max(1.0, optimum)


def test_whole_items_are_worth_less_than_fractions() -> None:
    # three items of 6 in a capacity of 10: one whole item (or two of the 5s), not 10/6 of one
    value, weight = np.array([1.3, 1.0, 1.0]), np.array([[6.0], [5.0], [5.0]])
    assert integer_knapsack_bound(value, weight, np.array([10.0]), np.ones(3), 1000) == 2.0
    assert integer_knapsack_bound(np.zeros(0), np.zeros((0, 1)), np.array([10.0]), np.zeros(0), 10) == 0.0
