"""`kubewise doctor` (find what is wrong, with its cause and fix) and `kubewise debug-bundle` (the same,
plus logs and manifests, in one redacted archive to send to whoever helps).

Both read the cluster through the kubeconfig, ask the platform with the user's API key, and probe the
cloud with the default credentials; each source can be left out. `doctor` exits 0 when nothing is
wrong, 1 when anything is, 2 on bad usage.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from kubewise.doctor.bundle import build_bundle, default_bundle_path
from kubewise.doctor.bundle_manifests import read_manifests
from kubewise.doctor.findings import DoctorReport
from kubewise.doctor.run import DoctorOptions, diagnose

__all__ = ["debug_bundle", "doctor"]

Opt = typer.Option
Context = Annotated[str | None, Opt("--context", help="Kubeconfig context (default: the current one).")]
Kubeconfig = Annotated[str | None, Opt("--kubeconfig", help="Kubeconfig file.")]
Server = Annotated[
    str | None,
    Opt("--server", envvar="KUBEWISE_API_URL", help="Platform API URL (default: the agent's API_URL)."),
]
ApiKey = Annotated[
    str | None, Opt("--api-key", envvar="KUBEWISE_API_KEY", help="Your API key.", show_default=False)
]
ClusterId = Annotated[str | None, Opt("--cluster-id", help="Platform cluster id (default: the agent's).")]
NoCluster = Annotated[bool, Opt("--no-cluster", help="Do not read the cluster.")]
NoCloud = Annotated[bool, Opt("--no-cloud", help="Do not probe the cloud account.")]
Provider = Annotated[str | None, Opt("--provider", help="eks, kops, ... (default: what the nodes say).")]
Region = Annotated[str | None, Opt("--region", help="Cloud region (default: what the nodes say).")]
_COLOURS = {"error": "red", "warning": "yellow"}


def _options(
    context: str | None,
    kubeconfig: str | None,
    server: str | None,
    api_key: str | None,
    cluster_id: str | None,
    no_cluster: bool,
    no_cloud: bool,
    provider: str | None,
    region: str | None,
) -> DoctorOptions:
    return DoctorOptions(
        context=context,
        kubeconfig=kubeconfig,
        api_url=server or None,
        api_key=api_key or None,
        cluster_id=cluster_id,
        cluster=not no_cluster,
        cloud=not no_cloud,
        provider=provider,
        region=region,
    )


def render_report(report: DoctorReport, console: Console) -> None:
    """Findings first (errors, then warnings), each with cause, fix and evidence; then what ran."""
    doc = report.to_json()
    for n, finding in enumerate(doc["findings"], 1):
        colour = _COLOURS[finding["severity"]]
        console.print(f"[bold {colour}]{n}. {finding['severity'].upper()}[/] {escape(finding['title'])}")
        console.print(f"   [bold]cause[/] {escape(finding['cause'])}")
        console.print(f"   [bold]fix[/]   {escape(finding['fix'])}")
        for line in finding["evidence"][:5]:
            console.print(f"   [dim]seen[/]  {escape(line)}", overflow="fold")
        console.print()
    for item in doc["skipped"]:
        console.print(f"[dim]not checked: {escape(item['what'])}: {escape(item['why'])}[/]")
    verdict = "[green]nothing wrong found[/]" if report.healthy else f"{len(doc['findings'])} problem(s)"
    console.print(f"{len(doc['checked'])} checks ran: {verdict}")


def doctor(
    context: Context = None,
    kubeconfig: Kubeconfig = None,
    server: Server = None,
    api_key: ApiKey = None,
    cluster_id: ClusterId = None,
    no_cluster: NoCluster = False,
    no_cloud: NoCloud = False,
    provider: Provider = None,
    region: Region = None,
    output: Annotated[str, Opt("--output", "-o", help="table or json.")] = "table",
) -> None:
    """Check the cluster, the platform and the cloud; print each problem with its cause and fix."""
    if output not in ("table", "json"):
        typer.echo(f"error: --output must be table or json, got {output!r}", err=True)
        raise typer.Exit(2)
    options = _options(
        context, kubeconfig, server, api_key, cluster_id, no_cluster, no_cloud, provider, region
    )
    err = Console(stderr=True)
    with err.status("checking") as status:
        result = diagnose(options, step=lambda what: status.update(f"{what}..."))
    if output == "json":
        typer.echo(json.dumps(result.report.to_json(), indent=2))
    else:
        render_report(result.report, Console())
    raise typer.Exit(result.report.exit_code)


def debug_bundle(
    context: Context = None,
    kubeconfig: Kubeconfig = None,
    server: Server = None,
    api_key: ApiKey = None,
    cluster_id: ClusterId = None,
    no_cluster: NoCluster = False,
    no_cloud: NoCloud = False,
    provider: Provider = None,
    region: Region = None,
    out: Annotated[
        Path | None, Opt("--out", help="Archive to write (default: ./kubewise-debug-<time>.tar.gz).")
    ] = None,
) -> None:
    """Write doctor's results, logs, manifests, versions, policies and recent actions to one archive,
    every secret redacted."""
    options = _options(
        context, kubeconfig, server, api_key, cluster_id, no_cluster, no_cloud, provider, region
    )
    now = dt.datetime.now(dt.UTC)
    target = out or default_bundle_path(now)
    if target.exists() and target.is_dir():
        typer.echo(f"error: {target} is a directory: pass a file name with --out", err=True)
        raise typer.Exit(2)
    err = Console(stderr=True)
    with err.status("collecting") as status:
        result = diagnose(options, step=lambda what: status.update(f"{what}..."))
        manifests: dict[str, list[object]] = {}
        errors: list[str] = []
        if options.cluster and result.cluster is not None and result.cluster.reachable:
            status.update("reading the installed manifests...")
            manifests, errors = read_manifests(context, kubeconfig)
        try:
            build_bundle(target, result, manifests, errors, now=now)
        except OSError as exc:
            typer.echo(f"error: cannot write {target}: {exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
    found = len(result.report.findings)
    typer.echo(f"wrote {target} ({found} problem(s) found; secrets redacted)")
