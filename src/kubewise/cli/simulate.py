"""`kubewise simulate SCENARIO`: what the autoscaler would do to a cluster over time, before turning it on.

The cluster is a dump (FILE|DIR), a kubeconfig context, or the bundled example; the scenario is YAML
(`kubewise.simulator.scenario`). It runs side by side: with the scenario's policies, with each
strategy they turn on turned off in turn (what each is worth), and with automation off (the cluster
as it is), and prints the average cost, pending pod-minutes, evictions, pods lost (bare pods evicted)
and spot interruptions.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kubewise.autoscaler import AutoscalerPolicy, policy_from_document
from kubewise.catalog.loading import CatalogError, load_region
from kubewise.cli.inputs import EXIT_USAGE, CliError, choose_location, load_input
from kubewise.simulator import Outcome, ScenarioError, parse_scenario, simulate

__all__ = ["simulate_command"]


def _scenario(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text())
    except OSError as exc:
        raise CliError(f"cannot read the scenario {path}: {exc.strerror or exc}", EXIT_USAGE) from None
    except yaml.YAMLError as exc:
        raise CliError(f"the scenario {path} is not YAML: {' '.join(str(exc).split())}", EXIT_USAGE) from None


def _row(name: str, out: Outcome, step: float) -> dict[str, object]:
    return {
        "policies": name,
        "average_hourly_cost": round(out.average_hourly_cost, 4),
        "pending_pod_minutes": round(out.pending_pod_minutes(step), 1),
        "evictions": out.evictions,
        "lost_pods": out.lost_pods,
        "spot_interruptions": out.interruptions,
        "nodes_at_end": out.timeline[-1][3] if out.timeline else 0,
    }


_STRATEGIES = (  # (the policy document's name, the AutoscalerPolicy field that turns it off)
    ("unschedulablePods", "unschedulable_pods"),
    ("nodeDownscaler", "node_downscaler"),
    ("evictor", "evictor"),
    ("spotInstances", "spot"),
)


def _each_policy_off(policy: AutoscalerPolicy) -> list[tuple[str, AutoscalerPolicy]]:
    """The scenario's policies with one of its strategies turned off, for each one it turns on:
    what each is worth on this cluster."""
    if not policy.enabled:
        return []
    return [
        (f"without {name}", dataclasses.replace(policy, **{field: False}))
        for name, field in _STRATEGIES
        if getattr(policy, field)
    ]


def simulate_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (duration, policies, events).")],
    source: Annotated[Path | None, typer.Option("--cluster", help="kubectl dump FILE or DIR.")] = None,
    context: Annotated[str | None, typer.Option("--context", help="Kubeconfig context (read-only).")] = None,
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", help="Kubeconfig file.")] = None,
    example: Annotated[bool, typer.Option("--example", help="The bundled example EKS cluster.")] = False,
    output: Annotated[str, typer.Option("--output", "-o", help="table or json.")] = "table",
) -> None:
    """Simulate the autoscaler with a scenario's policies, each of its strategies off in turn, and
    automation off."""
    err = Console(stderr=True)
    try:
        if output not in ("table", "json"):
            raise CliError("--output must be table or json", EXIT_USAGE)
        parsed = parse_scenario(_scenario(scenario))
        snapshot = load_input(err, source, context, kubeconfig, example)
        provider, region = choose_location(snapshot, None, None)
        try:
            catalog = load_region(provider, region)
        except CatalogError as exc:
            raise CliError(str(exc)) from None
        policy = policy_from_document(parsed.policies)
        runs = [("scenario", policy), *_each_policy_off(policy), ("automation off", AutoscalerPolicy())]
        rows = []
        for n, (name, variant) in enumerate(runs, 1):
            with err.status(f"simulating {name} ({n} of {len(runs)})", spinner="dots"):
                rows.append(_row(name, simulate(parsed, snapshot, catalog, variant), parsed.step_seconds))
    except ScenarioError as exc:
        err.print(
            f"[bold red]error:[/] scenario {escape(str(scenario))}: {escape(str(exc))}",
            highlight=False,
            soft_wrap=True,  # one line, however long the path: scripts grep it
        )
        raise typer.Exit(EXIT_USAGE) from None
    except CliError as exc:
        err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.code) from None
    if output == "json":
        typer.echo(json.dumps({"duration_minutes": parsed.duration_seconds / 60, "runs": rows}, indent=2))
        return
    table = Table(title=f"{parsed.duration_seconds / 60:g} simulated minutes")
    for column in rows[0]:
        table.add_column(column.replace("_", " "), justify="left" if column == "policies" else "right")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console().print(table)
