"""`kubewise policies get|set|apply|diff`: a cluster's policies, declaratively, against a running server.

`apply -f FILE` makes the platform hold exactly the file's policies (fields left out take their safe
defaults); `diff -f FILE` shows what apply would change and exits 1 when there is drift, 0 when none
(like `kubectl diff`), so it can guard a pipeline. The file is validated locally first, with the
server's own rules, so a typo is reported before anything is sent.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError

from kubewise.cli.api_client import DEFAULT_SERVER, KeyOpt, PlatformClient, ServerOpt, report_errors
from kubewise.cli.inputs import EXIT_INPUT, EXIT_USAGE, CliError
from kubewise.server.policies import Policies

__all__ = ["policies_app"]

policies_app = typer.Typer(help="A cluster's automation policies on a kubewise server.", no_args_is_help=True)

ClusterOpt = Annotated[str, typer.Option("--cluster", help="Cluster id.")]
FileOpt = Annotated[Path, typer.Option("-f", "--filename", help="Policies file (YAML or JSON).")]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="yaml or json.")]


def _path(cluster: str) -> str:
    return f"/v1/kubernetes/clusters/{cluster}/policies"


def _show(doc: Any, output: str) -> str:
    if output == "json":
        return json.dumps(doc, indent=2, sort_keys=True)
    if output == "yaml":
        return yaml.safe_dump(doc, sort_keys=True)
    raise CliError(f"--output must be yaml or json, got {output!r}", EXIT_USAGE)


def _validated(raw: Any, where: str) -> dict[str, Any]:
    try:
        return Policies.model_validate(raw).model_dump(mode="json", by_alias=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise CliError(
            f"{where}: {field}: {first['msg'].removeprefix('Value error, ')}", EXIT_INPUT
        ) from None


def _read(file: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(file.read_text())  # JSON is YAML too
    except OSError as exc:
        raise CliError(f"{file}: cannot read: {exc.strerror}", EXIT_INPUT) from None
    except yaml.YAMLError as exc:
        raise CliError(f"{file}: not YAML or JSON: {exc}", EXIT_INPUT) from None
    return _validated(raw if raw is not None else {}, str(file))


def _diff(current: dict[str, Any], wanted: dict[str, Any], cluster: str) -> list[str]:
    a, b = yaml.safe_dump(current, sort_keys=True), yaml.safe_dump(wanted, sort_keys=True)
    return list(
        difflib.unified_diff(a.splitlines(), b.splitlines(), f"cluster {cluster}", "file", lineterm="")
    )


@policies_app.command("get")
def get(
    cluster: ClusterOpt,
    server: ServerOpt = DEFAULT_SERVER,
    api_key: KeyOpt = None,
    output: OutputOpt = "yaml",
) -> None:
    """Print the cluster's policies."""

    def action() -> None:
        with PlatformClient(server, api_key) as api:
            typer.echo(_show(api.request("GET", _path(cluster)), output).rstrip())

    report_errors(action)


def _assign(doc: dict[str, Any], setting: str) -> None:
    path, sep, value = setting.partition("=")
    if not sep or not path:
        raise CliError(
            f"expected FIELD=VALUE, got {setting!r} (e.g. nodeDownscaler.enabled=true)", EXIT_USAGE
        )
    keys = path.split(".")
    node = doc
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            raise CliError(f"{path}: {key!r} is not a policy section", EXIT_USAGE)
        node = node[key]
    if keys[-1] not in node:
        raise CliError(f"{path}: no such policy field", EXIT_USAGE)
    node[keys[-1]] = yaml.safe_load(value)


@policies_app.command("set")
def set_(
    cluster: ClusterOpt,
    settings: Annotated[
        list[str], typer.Argument(metavar="FIELD=VALUE...", help="e.g. evictor.enabled=true")
    ],
    server: ServerOpt = DEFAULT_SERVER,
    api_key: KeyOpt = None,
) -> None:
    """Change some fields, keep the others."""

    def action() -> None:
        with PlatformClient(server, api_key) as api:
            doc = api.request("GET", _path(cluster))
            for setting in settings:
                _assign(doc, setting)
            new = api.request("PUT", _path(cluster), _validated(doc, "FIELD=VALUE"))
            typer.echo(_show(new, "yaml").rstrip())

    report_errors(action)


@policies_app.command("apply")
def apply(
    cluster: ClusterOpt, file: FileOpt, server: ServerOpt = DEFAULT_SERVER, api_key: KeyOpt = None
) -> None:
    """Make the platform hold the file's policies (left-out fields take their defaults)."""

    def action() -> None:
        wanted = _read(file)
        with PlatformClient(server, api_key) as api:
            changes = _diff(api.request("GET", _path(cluster)), wanted, cluster)
            if not changes:
                typer.echo(f"cluster {cluster}: policies unchanged")
                return
            api.request("PUT", _path(cluster), wanted)
            typer.echo(f"cluster {cluster}: policies applied")

    report_errors(action)


@policies_app.command("diff")
def diff(
    cluster: ClusterOpt, file: FileOpt, server: ServerOpt = DEFAULT_SERVER, api_key: KeyOpt = None
) -> None:
    """Show drift between the file and the platform; exit 1 if they differ, 0 if not."""

    def action() -> None:
        wanted = _read(file)
        with PlatformClient(server, api_key) as api:
            changes = _diff(api.request("GET", _path(cluster)), wanted, cluster)
        for line in changes:
            typer.echo(line)
        if changes:
            raise typer.Exit(1)

    report_errors(action)
