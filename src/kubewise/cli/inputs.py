"""Where `kubewise savings` gets its cluster from, and where it plans: the input side of the command.

Called by `cli.savings`. Loads a snapshot from exactly one of a dump FILE/DIR, the bundled example or a
live kubeconfig context (read-only, through `kubewise.agent`), with a spinner on stderr while a big
input is read; then decides the provider and region from the options or the nodes' labels. Every
failure is a `CliError` carrying the one line to print and the exit code (1: the input could not be
read, 2: the command line is incomplete or wrong).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from rich.console import Console

from kubewise.catalog.pricing import infer_location
from kubewise.model import Snapshot
from kubewise.model.dump_files import dump_files
from kubewise.model.loading import SnapshotLoadError, load_snapshot_from_objects, load_snapshot_from_path

__all__ = [
    "EXAMPLE",
    "EXIT_INPUT",
    "EXIT_USAGE",
    "SPINNER_MIN_BYTES",
    "CliError",
    "choose_location",
    "input_bytes",
    "load_input",
]

EXAMPLE = "eks-us-east-1.json"  # in the `kubewise.examples` package data
EXIT_INPUT = 1  # the input could not be read or is malformed
EXIT_USAGE = 2  # missing or contradictory options (Typer uses 2 for its own usage errors too)
SPINNER_MIN_BYTES = 20_000_000  # dumps this big take seconds to parse: show that something happens
_WHERE_EXAMPLE = "--provider aws --region us-east-1"


class CliError(Exception):
    """A failure to report as `error: <message>` on stderr, exiting with `code`."""

    def __init__(self, message: str, code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def input_bytes(source: Path) -> int:
    """Size of a dump file, or of the dump files of a directory; 0 when it cannot be told."""
    try:
        if source.is_dir():
            return sum(p.stat().st_size for p in dump_files(source))
        return source.stat().st_size
    except (OSError, SnapshotLoadError):
        return 0  # the loader reports the problem properly


@contextmanager
def _reading(console: Console, what: str, *, show: bool) -> Iterator[None]:
    """A transient spinner on `console` (stderr) while a slow input is read; nothing otherwise."""
    if not show:
        yield
        return
    with console.status(f"reading {what}", spinner="dots"):
        yield


def _read_context(context: str | None, kubeconfig: str | None) -> Snapshot:
    from kubewise.agent.cluster_reader import ClusterReadError, read_cluster  # kubernetes: only if asked

    try:
        return load_snapshot_from_objects(read_cluster(context, kubeconfig))
    except ClusterReadError as exc:
        raise CliError(str(exc)) from None


def load_input(
    console: Console, source: Path | None, context: str | None, kubeconfig: str | None, example: bool
) -> Snapshot:
    """The snapshot of exactly one input: `source` (file or directory), `context`, or the example."""
    if sum((source is not None, context is not None, example)) != 1:
        raise CliError("give exactly one input: a FILE or DIR, --context NAME, or --example", EXIT_USAGE)
    if kubeconfig is not None and context is None:
        raise CliError("--kubeconfig is only used with --context", EXIT_USAGE)
    try:
        if context is not None:
            with _reading(console, f"cluster (context {context})", show=True):
                return _read_context(context, kubeconfig)
        if example:
            with resources.as_file(resources.files("kubewise.examples") / EXAMPLE) as path:
                return load_snapshot_from_path(path)
        assert source is not None
        with _reading(console, str(source), show=input_bytes(source) >= SPINNER_MIN_BYTES):
            return load_snapshot_from_path(source)
    except SnapshotLoadError as exc:
        raise CliError(str(exc)) from None


def choose_location(snapshot: Snapshot, provider: str | None, region: str | None) -> tuple[str, str]:
    """`(provider, region)` to plan in: the options, else what the nodes' labels / providerIDs say.

    A region is inferred only together with the inferred provider (never another cloud's region).
    """
    provider = provider.strip().lower() if provider else None
    region = region.strip() if region else None
    found_provider, found_region = infer_location(snapshot.nodes)
    if provider is None:
        provider = found_provider
    if region is None and provider == found_provider:
        region = found_region
    if provider and region:
        return provider, region
    raise CliError(_location_problem(snapshot, provider, region, found_provider), EXIT_USAGE)


def _location_problem(snapshot: Snapshot, provider: str | None, region: str | None, found: str | None) -> str:
    missing = [flag for flag, value in (("--provider", provider), ("--region", region)) if not value]
    what = " and ".join(flag.removeprefix("--") for flag in missing)
    say = f"pass {' and '.join(missing)}, e.g. {_WHERE_EXAMPLE}"
    if not snapshot.nodes:
        return f"the input has no nodes to infer the {what} from; say where to plan: {say}"
    if provider and found and provider != found:
        return f"--provider {provider} is not where the nodes run ({found}): pass --region for {provider} too"
    return (
        f"cannot tell the {what} from the nodes' labels (topology.kubernetes.io/region) or "
        f"spec.providerID; {say}"
    )
