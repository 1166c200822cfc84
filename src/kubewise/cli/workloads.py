"""`kubewise workloads list|show|apply`: a cluster's workloads on a kubewise server, their requests
against the rightsizing recommendation (or why there is none yet), and applying one (a full key).

`-o table` (the default) prints CPU in millicores (`250m`) and memory in MiB; `-o json` prints the
API's answer as it is. Talks to the platform through `cli.api_client.PlatformClient`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import quote

import typer

from kubewise.cli.api_client import DEFAULT_SERVER, KeyOpt, PlatformClient, ServerOpt, report_errors
from kubewise.cli.inputs import EXIT_USAGE, CliError

__all__ = ["workloads_app"]

workloads_app = typer.Typer(
    help="Workload rightsizing on a kubewise server: requests vs recommendations.", no_args_is_help=True
)

ClusterOpt = Annotated[str, typer.Option("--cluster-id", "--cluster", help="Cluster id.")]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="table or json.")]
WorkloadArg = Annotated[str, typer.Argument(metavar="NAMESPACE/KIND/NAME", help="e.g. shop/Deployment/web")]


def _base(cluster: str) -> str:
    return f"/v1/kubernetes/clusters/{quote(cluster, safe='')}/workloads"


def _workload_path(cluster: str, workload: str) -> str:
    parts = workload.split("/")
    if len(parts) != 3 or not all(parts):
        raise CliError(
            f"expected NAMESPACE/KIND/NAME, got {workload!r} (e.g. shop/Deployment/web)", EXIT_USAGE
        )
    return _base(cluster) + "/" + "/".join(quote(p, safe="") for p in parts)


def _check_output(output: str) -> None:
    if output not in ("table", "json"):
        raise CliError(f"--output must be table or json, got {output!r}", EXIT_USAGE)


def _cpu(value: Any) -> str:
    return "-" if value is None else f"{float(value):.0f}m"


def _memory(value: Any) -> str:
    return "-" if value is None else f"{float(value) / 2**20:.0f}Mi"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]
    ]
    return "\n".join(lines)


def _container_rows(item: dict[str, Any], prefix: Sequence[str]) -> list[list[str]]:
    rows = []
    for c in item["containers"]:
        rec = c["recommended"] or {}
        rows.append(
            [
                *prefix,
                c["name"],
                f"{_cpu(c['requests']['cpu'])} -> {_cpu(rec.get('cpu')) if rec else '?'}",
                f"{_memory(c['requests']['memory'])} -> {_memory(rec.get('memory')) if rec else '?'}",
            ]
        )
        prefix = [""] * len(prefix)
    return rows or [[*prefix, "-", "-", "-"]]


def _list_table(items: list[dict[str, Any]]) -> str:
    if not items:
        return "no workloads in the cluster's latest snapshot"
    rows = []
    for item in items:
        workload = f"{item['namespace']}/{item['kind']}/{item['name']}"
        status = item["reason"] or f"saves ${item['hourlySavings']:.4f}/h"
        for row in _container_rows(item, [workload, item["mode"] if item["optedIn"] else "off"]):
            rows.append([*row, status])
            status = ""
    return _table(["WORKLOAD", "MODE", "CONTAINER", "CPU", "MEMORY", "STATUS"], rows)


def _show_table(item: dict[str, Any]) -> str:
    head = [
        f"{item['kind']} {item['namespace']}/{item['name']}",
        f"opted in: {'yes' if item['optedIn'] else 'no'}   mode: {item['mode']}"
        f"   data: {item['dataHours']:g} h",
        item["reason"] or f"estimated savings: ${item['hourlySavings']:.4f}/h",
        "",
        _table(["CONTAINER", "CPU", "MEMORY"], _container_rows(item, [])),
    ]
    usage = item.get("usage") or {}
    if usage:
        rows = [
            [
                c,
                _cpu(u["cpuP50"]),
                _cpu(u["cpuP90"]),
                _memory(u["memoryP95"]),
                str(u["oomEvents"]),
                str(u["samples"]),
            ]
            for c, u in usage.items()
        ]
        head += ["", _table(["CONTAINER", "CPU P50", "CPU P90", "MEMORY P95", "OOM KILLS", "SAMPLES"], rows)]
    return "\n".join(head)


@workloads_app.command("list")
def list_(
    cluster: ClusterOpt,
    server: ServerOpt = DEFAULT_SERVER,
    api_key: KeyOpt = None,
    output: OutputOpt = "table",
) -> None:
    """Every workload: requests -> recommendation, or why there is none yet."""

    def action() -> None:
        _check_output(output)
        with PlatformClient(server, api_key) as api:
            doc = api.request("GET", _base(cluster))
        typer.echo(json.dumps(doc, indent=2) if output == "json" else _list_table(doc["items"]))

    report_errors(action)


@workloads_app.command("show")
def show(
    cluster: ClusterOpt,
    workload: WorkloadArg,
    server: ServerOpt = DEFAULT_SERVER,
    api_key: KeyOpt = None,
    output: OutputOpt = "table",
) -> None:
    """One workload, with its containers' usage percentiles and OOM kills."""

    def action() -> None:
        _check_output(output)
        path = _workload_path(cluster, workload)
        with PlatformClient(server, api_key) as api:
            doc = api.request("GET", path)
        typer.echo(json.dumps(doc, indent=2) if output == "json" else _show_table(doc))

    report_errors(action)


@workloads_app.command("apply")
def apply(
    cluster: ClusterOpt,
    workload: WorkloadArg,
    server: ServerOpt = DEFAULT_SERVER,
    api_key: KeyOpt = None,
    output: OutputOpt = "table",
) -> None:
    """Queue the workload's recommendation for the cluster controller (needs a full key)."""

    def action() -> None:
        _check_output(output)
        path = _workload_path(cluster, workload) + "/apply"
        with PlatformClient(server, api_key) as api:
            doc = api.request("POST", path)
        if output == "json":
            typer.echo(json.dumps(doc, indent=2))
        else:
            typer.echo(f"{workload}: queued for the cluster controller (action {doc['actionId']})")

    report_errors(action)
