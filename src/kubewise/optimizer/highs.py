"""A thin, quiet handle on the HiGHS LP solver for models that grow and are re-solved warm.

Called by `optimizer.lower_bound` (the bound LP, which gains columns as they are priced in),
`optimizer.master` (the node-pattern LP) and `optimizer.pricing` (every candidate's knapsack LP, whose
objective changes each round). SciPy's `linprog` wraps the same HiGHS but starts every solve from
scratch; these models are re-solved hundreds of times with small changes, where a warm start is what
makes them fast. The binding class is used directly because `highspy.Highs` prints a banner on stdout
when it is first created, which would corrupt `kubewise savings --output json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from highspy import _core

__all__ = ["INF", "LpModel", "LpSolution", "LpSolveError", "csc", "integer_knapsack_bound"]

INF = float(_core.kHighsInf)
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class LpSolveError(RuntimeError):
    """HiGHS did not reach an optimum (only happens on malformed models: every model here is feasible)."""


def _i32(values: Sequence[int] | IntArray) -> npt.NDArray[np.int32]:
    return np.ascontiguousarray(values, dtype=np.int32)


def _f64(values: Sequence[float] | FloatArray) -> FloatArray:
    return np.ascontiguousarray(values, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class LpSolution:
    """An optimal solution. HiGHS' sign convention: col_dual = cost - A^T row_dual (reduced costs)."""

    objective: float
    col_value: FloatArray
    row_dual: FloatArray
    col_dual: FloatArray


class LpModel:
    """A minimisation (or maximisation) LP built row- or column-wise, solved warm after each change."""

    def __init__(self, *, maximize: bool = False, primal: bool = False) -> None:
        self._h = _core._Highs()
        self._h.setOptionValue("output_flag", False)
        self._h.setOptionValue("threads", 1)  # one thread: the same answer on every run
        self._h.setOptionValue("presolve", "off")
        if primal:  # models that only gain columns stay primal feasible: primal simplex resumes from there
            self._h.setOptionValue("simplex_strategy", 4)
        if maximize:
            self._h.changeObjectiveSense(_core.ObjSense.kMaximize)

    def prefer_primal(self, primal: bool) -> None:
        """Primal simplex after adding columns (the basis stays primal feasible), dual simplex after
        changing right-hand sides (it stays dual feasible): each resumes from where the last solve was."""
        self._h.setOptionValue("simplex_strategy", 4 if primal else 1)

    @property
    def num_rows(self) -> int:
        return int(self._h.getNumRow())

    @property
    def num_cols(self) -> int:
        return int(self._h.getNumCol())

    def add_rows(self, lower: FloatArray, upper: FloatArray) -> None:
        """Rows with no entries yet (columns added later fill them)."""
        n = len(lower)
        if n:
            empty = np.zeros(0, dtype=np.int32)
            self._h.addRows(
                n, _f64(lower), _f64(upper), 0, _i32(np.zeros(n, dtype=np.int64)), empty, _f64([])
            )

    def add_cols(
        self,
        cost: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        starts: IntArray,
        rows: IntArray,
        values: FloatArray,
    ) -> None:
        """Columns in compressed-column form: column j's entries are rows[starts[j]:starts[j+1]]."""
        n = len(cost)
        if n:
            self._h.addCols(
                n, _f64(cost), _f64(lower), _f64(upper), len(values), _i32(starts), _i32(rows), _f64(values)
            )

    def add_rows_csr(
        self, lower: FloatArray, upper: FloatArray, starts: IntArray, cols: IntArray, values: FloatArray
    ) -> None:
        """Rows in compressed-row form over existing columns."""
        n = len(lower)
        if n:
            self._h.addRows(n, _f64(lower), _f64(upper), len(values), _i32(starts), _i32(cols), _f64(values))

    def delete_cols(self, cols: IntArray) -> None:
        """Remove columns (later columns shift down to fill the gaps, keeping their order)."""
        if len(cols):
            self._h.deleteCols(len(cols), _i32(cols))

    def set_costs(self, cols: IntArray, cost: FloatArray) -> None:
        self._h.changeColsCost(len(cols), _i32(cols), _f64(cost))

    def set_col_bounds(self, cols: IntArray, lower: FloatArray, upper: FloatArray) -> None:
        self._h.changeColsBounds(len(cols), _i32(cols), _f64(lower), _f64(upper))

    def set_row_bounds(self, rows: IntArray, lower: FloatArray, upper: FloatArray) -> None:
        # in the binding, though missing from highspy's type stubs
        self._h.changeRowsBounds(len(rows), _i32(rows), _f64(lower), _f64(upper))  # type: ignore[attr-defined]

    def solve(self) -> LpSolution:
        """Solve from the last basis."""
        self._h.run()
        status = self._h.getModelStatus()
        if status != _core.HighsModelStatus.kOptimal:
            raise LpSolveError(f"HiGHS stopped with {self._h.modelStatusToString(status)}")
        sol = self._h.getSolution()
        return LpSolution(
            float(self._h.getInfo().objective_function_value),
            np.asarray(sol.col_value, dtype=np.float64),
            np.asarray(sol.row_dual, dtype=np.float64),
            np.asarray(sol.col_dual, dtype=np.float64),
        )


def integer_knapsack_bound(
    value: FloatArray, weight: FloatArray, capacity: FloatArray, upper: FloatArray, max_nodes: int
) -> float | None:
    """An upper bound on max value . y over integer 0 <= y <= upper with weight^T y <= capacity
    (items x resources), from HiGHS' branch and bound stopped after `max_nodes` nodes: the bound it
    has proven so far (the optimum when it finished). A node count, not a clock, keeps it the same
    on every run. None when HiGHS proves nothing."""
    n, n_res = weight.shape
    if not n:
        return 0.0
    h = _core._Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_max_nodes", int(max_nodes))
    h.changeObjectiveSense(_core.ObjSense.kMaximize)
    empty = np.zeros(0, dtype=np.int32)
    h.addRows(
        n_res,
        _f64(np.full(n_res, -INF)),
        _f64(capacity),
        0,
        _i32(np.zeros(n_res, dtype=np.int64)),
        empty,
        _f64([]),
    )
    item, res = np.nonzero(weight > 0)
    starts = np.searchsorted(item, np.arange(n))
    h.addCols(
        n,
        _f64(value),
        _f64(np.zeros(n)),
        _f64(upper),
        len(item),
        _i32(starts),
        _i32(res),
        _f64(weight[item, res]),
    )
    kinds = np.full(n, int(_core.HighsVarType.kInteger), dtype=np.uint8)
    h.changeColsIntegrality(n, _i32(np.arange(n)), kinds)
    h.run()
    bound = float(h.getInfo().mip_dual_bound)
    return bound if np.isfinite(bound) else None


def csc(columns: Sequence[tuple[IntArray, FloatArray]]) -> tuple[IntArray, IntArray, FloatArray]:
    """Column-wise (rows, values) pairs to (starts, rows, values) arrays."""
    lengths = np.array([len(r) for r, _ in columns], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(columns) else np.zeros(0, dtype=np.int64)
    rows = np.concatenate([r for r, _ in columns]) if columns else np.zeros(0, dtype=np.int64)
    values = np.concatenate([v for _, v in columns]) if columns else np.zeros(0)
    return starts.astype(np.int64), rows.astype(np.int64), values.astype(np.float64)
