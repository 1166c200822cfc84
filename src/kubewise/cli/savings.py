"""`kubewise savings`: price a cluster and show the cheapest node mix that runs the same pods.

Reads a kubectl JSON/YAML dump, a directory of them, the bundled example, or a live kubeconfig context
(read-only), then runs the pure optimizer. Output: Rich tables, or the JSON contract of
`docs/savings-json.md` with `--output json`.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from importlib import resources
from pathlib import Path

import typer
from rich.console import Console

from kubewise.catalog.loading import CatalogError, load_region
from kubewise.catalog.pricing import infer_location
from kubewise.cli.progress import stage_progress
from kubewise.cli.render import render_report
from kubewise.model import Snapshot
from kubewise.model.loading import SnapshotLoadError, load_snapshot_from_objects, load_snapshot_from_path
from kubewise.optimizer import Constraints, savings_report

EXAMPLE = "eks-us-east-1.json"


class Output(StrEnum):
    table = "table"
    json = "json"


def _fail(message: str, code: int = 1) -> typer.Exit:
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _load(source: Path | None, context: str | None, kubeconfig: str | None, example: bool) -> Snapshot:
    chosen = sum((source is not None, context is not None, example))
    if chosen != 1:
        raise _fail("give exactly one input: a FILE or DIR, --context NAME, or --example", 2)
    try:
        if example:
            with resources.as_file(resources.files("kubewise.examples") / EXAMPLE) as path:
                return load_snapshot_from_path(path)
        if context is not None:
            from kubewise.agent.cluster_reader import ClusterReadError, read_cluster

            try:
                return load_snapshot_from_objects(read_cluster(context, kubeconfig))
            except ClusterReadError as exc:
                raise _fail(str(exc)) from None
        assert source is not None
        return load_snapshot_from_path(source)
    except SnapshotLoadError as exc:
        raise _fail(str(exc)) from None


def _location(snapshot: Snapshot, provider: str | None, region: str | None) -> tuple[str, str]:
    found_provider, found_region = infer_location(snapshot.nodes)
    provider = provider or found_provider
    region = region or (found_region if provider == found_provider else None)
    if not provider or not region:
        missing = "nodes" if not snapshot.nodes else "nodes with provider and region labels"
        raise _fail(
            f"the input has no {missing} to tell where to plan; "
            "say where with e.g. --provider aws --region us-east-1",
            2,
        )
    return provider, region


def savings(
    source: Path | None = typer.Argument(
        None, help="kubectl JSON/YAML dump, or a directory of them.", exists=False, show_default=False
    ),
    context: str | None = typer.Option(
        None, "--context", help="Read a live cluster from this kubeconfig context."
    ),
    kubeconfig: str | None = typer.Option(
        None, "--kubeconfig", help="Kubeconfig file (default: $KUBECONFIG)."
    ),
    example: bool = typer.Option(False, "--example", help="Use the bundled example EKS cluster."),
    provider: str | None = typer.Option(
        None, "--provider", help="aws, gcp or azure (default: from node labels)."
    ),
    region: str | None = typer.Option(
        None, "--region", help="Region to price in (default: from node labels)."
    ),
    spot: bool = typer.Option(True, "--spot/--no-spot", help="Also plan with spot capacity."),
    output: Output = typer.Option(Output.table, "--output", "-o", help="table or json."),
    family: list[str] = typer.Option([], "--family", help="Only these instance families (repeatable)."),
    exclude_family: list[str] = typer.Option(
        [], "--exclude-family", help="Never these families (repeatable)."
    ),
    arch: list[str] = typer.Option(
        [], "--arch", help="Architectures: amd64, arm64 (repeatable; default: the current nodes')."
    ),
    zone: list[str] = typer.Option(
        [], "--zone", help="Zones new nodes may use (default: the current nodes')."
    ),
    min_vcpu: int | None = typer.Option(None, "--min-vcpu", help="Smallest node size in vCPUs."),
    max_vcpu: int | None = typer.Option(None, "--max-vcpu", help="Largest node size in vCPUs."),
    show_nodes: bool = typer.Option(False, "--show-nodes", help="List every planned node and its pods."),
) -> None:
    """Show what the cluster costs now and the cheapest node mix that runs the same pods."""
    err = Console(stderr=True)
    snapshot = _load(source, context, kubeconfig, example)
    provider, region = _location(snapshot, provider, region)
    try:
        catalog = load_region(provider, region)
    except CatalogError as exc:
        raise _fail(str(exc), 2) from None
    constraints = Constraints(
        families=frozenset(family) or None,
        exclude_families=frozenset(exclude_family),
        arch=frozenset(arch) or None,
        zones=tuple(zone) or None,
        min_vcpu=min_vcpu,
        max_vcpu=max_vcpu,
    )
    with stage_progress(err, enabled=len(snapshot.pods) >= 2000, steps=2 if spot else 1) as on_stage:
        report = savings_report(snapshot, catalog, constraints, spot=spot, on_stage=on_stage)
    if output is Output.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        render_report(Console(), report, show_nodes=show_nodes)
