"""`kubewise savings`: price a cluster and show the cheapest node mix that runs the same pods.

Registered on the Typer app by `cli.main`. Reads a kubectl JSON/YAML dump, a directory of them, the
bundled example, or a live kubeconfig context (read-only) through `cli.inputs`, checks the filter
options against the region's catalog (`cli.constraints`), runs the pure optimizer with a progress bar
on stderr for inputs big enough to wait for, and prints Rich tables (`cli.render`) or the JSON / YAML
contract of `docs/savings-json.md`. Errors are one `error: ...` line on stderr, exit code 1 for an
unreadable input and 2 for a usage problem; nothing ends in a traceback.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape

from kubewise.catalog.loading import CatalogError, load_region
from kubewise.cli.constraints import FilterOptions, build_constraints
from kubewise.cli.inputs import EXIT_USAGE, CliError, choose_location, load_input
from kubewise.cli.progress import stage_progress
from kubewise.cli.render import render_report
from kubewise.model import Snapshot
from kubewise.optimizer import SavingsReport, savings_report

__all__ = ["PROGRESS_MIN_PODS", "Output", "savings", "wants_progress"]

PROGRESS_MIN_PODS = 1000  # below this, planning finishes before a progress bar would tell anything


class Output(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def wants_progress(snapshot: Snapshot) -> bool:
    """Show the planning progress bar? Only for inputs big enough to wait for."""
    return len(snapshot.pods) >= PROGRESS_MIN_PODS


def _emit(report: SavingsReport, output: Output, show_nodes: bool) -> None:
    if output is Output.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    elif output is Output.yaml:
        sys.stdout.write(yaml.safe_dump(report.to_dict(), sort_keys=False, allow_unicode=True))
    else:
        render_report(Console(), report, show_nodes=show_nodes)


def _plan(
    err: Console, snapshot: Snapshot, provider: str, region: str, spot: bool, filters: FilterOptions
) -> SavingsReport:
    try:
        catalog = load_region(provider, region)
    except CatalogError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    constraints = build_constraints(catalog, filters)
    with stage_progress(err, enabled=wants_progress(snapshot), steps=2 if spot else 1) as bar:
        return savings_report(
            snapshot, catalog, constraints, spot=spot, on_stage=bar.stage, progress=bar.work
        )


Source = Annotated[
    Path | None,
    typer.Argument(
        metavar="FILE|DIR",
        help="kubectl JSON/YAML dump (.gz ok), or a directory of them.",
        show_default=False,
    ),
]
Context = Annotated[
    str | None,
    typer.Option(
        "--context", metavar="NAME", help="Read a live cluster from this kubeconfig context (read-only)."
    ),
]
Kubeconfig = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig",
        metavar="FILE",
        help="Kubeconfig file for --context (default: $KUBECONFIG or ~/.kube/config).",
    ),
]
Example = Annotated[
    bool, typer.Option("--example", help="Use the bundled example EKS cluster (no cluster needed).")
]
Provider = Annotated[
    str | None,
    typer.Option(
        "--provider", metavar="PROVIDER", help="aws, gcp or azure (default: from the nodes' labels)."
    ),
]
Region = Annotated[
    str | None,
    typer.Option(
        "--region", metavar="REGION", help="Region to price and plan in (default: from the nodes' labels)."
    ),
]
Spot = Annotated[bool, typer.Option("--spot/--no-spot", help="Also plan with spot capacity.")]
OutputOpt = Annotated[
    Output, typer.Option("--output", "-o", help="table, json (docs/savings-json.md) or yaml.")
]
Family = Annotated[
    list[str] | None,
    typer.Option("--family", metavar="FAMILY", help="Only these instance families (repeatable)."),
]
ExcludeFamily = Annotated[
    list[str] | None,
    typer.Option("--exclude-family", metavar="FAMILY", help="Never these families (repeatable)."),
]
Arch = Annotated[
    list[str] | None,
    typer.Option("--arch", metavar="ARCH", help="amd64, arm64 (repeatable; default: the current nodes')."),
]
Zone = Annotated[
    list[str] | None,
    typer.Option(
        "--zone", metavar="ZONE", help="Zones new nodes may use (repeatable; default: the current nodes')."
    ),
]
MinVcpu = Annotated[
    int | None, typer.Option("--min-vcpu", min=1, metavar="N", help="Smallest node size in vCPUs.")
]
MaxVcpu = Annotated[
    int | None, typer.Option("--max-vcpu", min=1, metavar="N", help="Largest node size in vCPUs.")
]
ShowNodes = Annotated[
    bool, typer.Option("--show-nodes", help="List every planned node and its pods (table output).")
]


def savings(
    source: Source = None,
    context: Context = None,
    kubeconfig: Kubeconfig = None,
    example: Example = False,
    provider: Provider = None,
    region: Region = None,
    spot: Spot = True,
    output: OutputOpt = Output.table,
    family: Family = None,
    exclude_family: ExcludeFamily = None,
    arch: Arch = None,
    zone: Zone = None,
    min_vcpu: MinVcpu = None,
    max_vcpu: MaxVcpu = None,
    show_nodes: ShowNodes = False,
) -> None:
    """Show what the cluster costs now and the cheapest node mix that runs the same pods."""
    err = Console(stderr=True)
    filters = FilterOptions(family or (), exclude_family or (), arch or (), zone or (), min_vcpu, max_vcpu)
    try:
        snapshot = load_input(err, source, context, kubeconfig, example)
        where = choose_location(snapshot, provider, region)
        report = _plan(err, snapshot, *where, spot, filters)
    except CliError as exc:
        err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.code) from None
    _emit(report, output, show_nodes)
