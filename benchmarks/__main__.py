"""`python -m benchmarks`: run the plan-quality and speed benchmarks, print tables, write results.json.

Options: `--quick` (small sizes, written to results-quick.json), `--only quality|speed`, `--markdown`
(print the README figures from the results file without running), `--update-readme` (write them into
benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks.quality import run_quality
from benchmarks.report import markdown, quality_table, speed_table, update_readme
from benchmarks.speed import QUICK_SIZES, SIZES, run_speed
from kubewise.catalog.loading import load_region

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
QUICK_RESULTS = HERE / "results-quick.json"  # so that a quick check never overwrites the published figures
README = HERE / "README.md"
PROVIDER, REGION = "aws", "us-east-1"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a quick check, not the figures)")
    parser.add_argument("--only", choices=("quality", "speed"), help="run one of the two benchmarks")
    parser.add_argument("--seed", type=int, default=42, help="workload generator seed (default 42)")
    parser.add_argument("--pods", type=int, help="pods per quality workload (default 2000, quick 300)")
    parser.add_argument(
        "--results", type=Path, help="results file (default results.json, quick: results-quick.json)"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the figures of the results file as markdown"
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="speed sizes in pods (default 1000 10000 100000)"
    )
    parser.add_argument(
        "--budget", type=float, default=900.0, help="skip larger speed sizes once one takes longer (s)"
    )
    parser.add_argument("--update-readme", action="store_true", help="write them into benchmarks/README.md")
    args = parser.parse_args()
    if args.results is None:
        args.results = QUICK_RESULTS if args.quick else RESULTS
    return args


def _load(path: Path) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    return {}


def main() -> None:
    args = _args()
    console = Console()
    results = _load(args.results)
    if args.markdown or args.update_readme:
        if not results:
            raise SystemExit(f"no results in {args.results}: run `python -m benchmarks` first")
        if args.markdown:
            print(markdown(results), end="")
        if args.update_readme:
            update_readme(README, results)
            console.print(f"updated the Latest figures section of {README}")
        return
    catalog = load_region(PROVIDER, REGION)
    results["meta"] = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "python": platform.python_version(),
        "catalog": f"{PROVIDER} {REGION}, {len(catalog)} types",
        "seed": args.seed,
        "quick": args.quick,
    }
    if args.only in (None, "quality"):
        pods = args.pods or (300 if args.quick else 2000)
        with console.status(f"plan quality: {pods} pods per workload kind ..."):
            results["quality"] = run_quality(
                pods, args.seed, catalog, on_row=lambda r: console.log(f"quality {r['kind']}: done")
            )
        console.print(quality_table(results["quality"]))
    if args.only in (None, "speed"):
        sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
        with console.status(f"planning speed: {', '.join(f'{n:,}' for n in sizes)} pods ..."):
            results["speed"] = run_speed(
                sizes,
                args.seed,
                args.budget,
                on_row=lambda r: console.log(f"speed {r['pods']:,} pods: {r['seconds']:.2f} s"),
            )
        console.print(speed_table(results["speed"]))
    args.results.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    console.print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
