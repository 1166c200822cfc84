"""`kubewise demo`: the whole system on this machine, with no cluster and no cloud account."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kubewise.demo.runner import DemoFailed, DemoOptions, run_demo

__all__ = ["demo"]


def demo(
    duration: Annotated[
        float, typer.Option(min=20, help="Seconds of the scripted run (events at 30 % and 55 %).")
    ] = 120.0,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where the SQLite file, kubeconfig and log go (default: a new temporary dir)."),
    ] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="The platform's port (0: a free one).")] = 0,
    keep_running: Annotated[
        bool, typer.Option(help="After the run, keep everything up for you to explore until Ctrl-C.")
    ] = False,
    output: Annotated[str, typer.Option("--output", "-o", help="table or json (the summary).")] = "table",
) -> None:
    """Run the platform, a simulated EKS cluster, the agent and the controller together (SQLite,
    simulated cloud): automation takes the example cluster to a cheaper node mix while a workload
    scales up and a spot node is reclaimed. Every decision is in the platform's API."""
    if output not in ("table", "json"):
        typer.echo(f"error: --output must be table or json, not {output!r}", err=True)
        raise typer.Exit(2)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        if any(data_dir.iterdir()):
            typer.echo(f"error: --data-dir {data_dir} is not empty (the demo starts from nothing)", err=True)
            raise typer.Exit(2)
    where = data_dir or Path(tempfile.mkdtemp(prefix="kubewise-demo-"))

    def explore(url: str, key: str, cluster_id: str) -> None:
        err.print(
            f"\nEverything keeps running. Platform: {url}  (console: {url}/console, OpenAPI: {url}/docs)"
        )
        err.print(f"  export KUBEWISE_API_KEY={key}")
        err.print(
            f'  curl -H "X-API-Key: $KUBEWISE_API_KEY" {url}/v1/kubernetes/clusters/{cluster_id}/actions'
        )
        err.print("Ctrl-C stops it.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass

    try:
        summary = run_demo(
            DemoOptions(duration_seconds=duration, port=port),
            where,
            lambda line: err.print(line, markup=False, soft_wrap=True),
            keep_running=explore if keep_running else None,
        )
    except DemoFailed as exc:
        typer.echo(f"error: demo failed: {exc} (log: {where / 'demo.log'})", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo(f"demo stopped (data and log: {where})", err=True)
        raise typer.Exit(130) from None
    if output == "json":
        typer.echo(json.dumps(summary, indent=2))
        return
    _print_summary(Console(highlight=False, soft_wrap=True), summary)


def _print_summary(out: Console, s: dict[str, object]) -> None:
    start, end = s["start"], s["end"]
    assert isinstance(start, dict) and isinstance(end, dict)
    out.print(
        f"\nCluster cost: {start['hourlyCost']:.2f} $/h on {start['nodes']} nodes -> "
        f"{end['hourlyCost']:.2f} $/h on {end['nodes']} nodes ({s['savedPercent']}% less), "
        f"{end['pendingPods']} pods pending"
    )
    out.print(
        f"Pods: {s['evictions']} evicted and recreated elsewhere, {s['lostPods']} lost; "
        f"{s['pendingPodSeconds']} pod-seconds pending"
    )
    actions = s["actions"]
    assert isinstance(actions, dict)
    out.print("Actions carried out: " + (", ".join(f"{n} {k}" for k, n in actions.items()) or "none"))
    savings = s["platformSavings"]
    assert isinstance(savings, dict)
    for name, plan in savings.items():
        out.print(
            f"The platform's {name} plan for the cluster now: {plan['hourlyCost']:.2f} $/h "
            f"(lower bound {plan['lowerBound']:.2f})"
        )
    out.print(
        f"Platform data and log: {s['dataDir']} (cluster {s['clusterId']}, status {s['clusterStatus']})"
    )
