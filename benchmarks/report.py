"""Rendering of benchmark results: rich tables for the terminal, markdown for benchmarks/README.md.

Called by `benchmarks.__main__` with the dictionaries `benchmarks.quality` and `benchmarks.speed` return
(the same ones stored in results.json).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.table import Table

from benchmarks.quality import TARGET_RATIO
from benchmarks.speed import TARGET_SECONDS_10K

__all__ = ["markdown", "quality_table", "speed_table", "update_readme"]

README_START = "<!-- figures:start -->"
README_END = "<!-- figures:end -->"


def _num(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def _quality_cells(r: dict[str, Any]) -> list[str]:
    return [
        r["kind"],
        f"{r['pods']:,}",
        f"{r['cost']:.2f}",
        f"{r['lower_bound']:.2f}",
        _num(r["ratio"], ".3f"),
        f"{r['ffd_cost']:.2f}",
        _num(r["ffd_ratio"], ".3f"),
        _num(r["saving_vs_ffd"], ".0%"),
        f"{r['nodes']} / {r['ffd_nodes']}",
        ", ".join(r["ffd_node_types"]),
        f"{r['unschedulable']} / {r['ffd_unplaced']}",
        f"{r['seconds']:.2f}",
    ]


_QUALITY_HEADERS = [
    "kind",
    "pods",
    "plan $/h",
    "LB $/h",
    "plan/LB",
    "FFD $/h",
    "FFD/LB",
    "saved",
    "nodes plan/FFD",
    "FFD type",
    "unplaced plan/FFD",
    "plan s",
]


def _speed_cells(r: dict[str, Any]) -> list[str]:
    return [
        f"{r['pods']:,}",
        f"{r['seconds']:.3f}",
        str(len(r["runs"])),
        _num(r["tracemalloc_peak_mib"], ".0f"),
        f"{r['max_rss_mib']:.0f}",
        f"{r['classes']:.0f}",
        str(r["nodes"]),
        _num(r["gap"], ".2%"),
        f"{r['generate_seconds']:.2f}",
    ]


_SPEED_HEADERS = [
    "pods",
    "plan s",
    "runs",
    "tracemalloc MiB",
    "max RSS MiB",
    "classes",
    "nodes",
    "gap",
    "gen s",
]


def quality_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Plan quality (target: planner / lower bound <= {TARGET_RATIO})")
    for h in _QUALITY_HEADERS:
        table.add_column(h, justify="left" if h in ("kind", "FFD type") else "right")
    for r in rows:
        cells = _quality_cells(r)
        ok = r["ratio"] is not None and r["ratio"] <= TARGET_RATIO
        cells[4] = f"[{'green' if ok else 'red'}]{cells[4]}[/]"
        table.add_row(*cells)
    return table


def speed_table(speed: dict[str, Any]) -> Table:
    exponent = speed.get("exponent")
    table = Table(
        title=f"Planning speed, {speed['kind']} workload (time ~ pods^{_num(exponent, '.2f')}; "
        f"target: 10k pods <= {TARGET_SECONDS_10K:g} s, near-linear)"
    )
    for h in _SPEED_HEADERS:
        table.add_column(h, justify="right")
    for r in speed["rows"]:
        table.add_row(*_speed_cells(r))
    if speed.get("skipped"):
        table.caption = _skipped_note(speed)
    return table


def _skipped_note(speed: dict[str, Any]) -> str:
    sizes = ", ".join(f"{n:,}" for n in speed["skipped"])
    return f"not run: {sizes} pods (a smaller size already took over {speed['budget_seconds']:g} s)"


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """The "Latest figures" section body, from a results.json dictionary."""
    meta = results.get("meta", {})
    parts = [
        f"Measured {meta.get('date', '?')} on {meta.get('machine', '?')}, Python {meta.get('python', '?')}, "
        f"catalog {meta.get('catalog', '?')}{' (--quick)' if meta.get('quick') else ''}."
    ]
    if results.get("quality"):
        parts += [
            "",
            "**Plan quality** (USD per hour, on-demand, default constraints)",
            "",
            _md_table(_QUALITY_HEADERS, [_quality_cells(r) for r in results["quality"]]),
        ]
    if results.get("speed"):
        speed = results["speed"]
        parts += [
            "",
            f"**Planning speed** ({speed['kind']} workload; fitted exponent of time vs pods: "
            f"{_num(speed.get('exponent'), '.2f')})",
            "",
            _md_table(_SPEED_HEADERS, [_speed_cells(r) for r in speed["rows"]]),
        ]
        if speed.get("skipped"):
            parts += ["", _skipped_note(speed) + "."]
    return "\n".join(parts) + "\n"


def update_readme(readme: Path, results: dict[str, Any]) -> None:
    """Replace what sits between the figures markers of `readme` with `markdown(results)`."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{readme} has no {README_START} ... {README_END} section")
    block = f"{README_START}\n{markdown(results)}{README_END}"
    readme.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")
