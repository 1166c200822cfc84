"""Turn the `kubewise savings` filter options into optimizer `Constraints`, checked against the catalog.

Called by `cli.savings` once the region's catalog is loaded. A typo in `--family`, `--arch` or `--zone`
would otherwise silently leave no allowed instance type and report every pod as unschedulable, so each
value is checked here and an unknown one is a usage error (`inputs.CliError`, exit code 2) that names
the valid choices or the closest ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import get_close_matches

from kubewise.catalog.types import RegionCatalog
from kubewise.cli.inputs import EXIT_USAGE, CliError
from kubewise.model.kubectl_nodes import region_from_zone
from kubewise.optimizer import Constraints

__all__ = ["FilterOptions", "build_constraints"]


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """The raw filter options of the command line (empty / None: no restriction)."""

    families: Sequence[str] = ()
    exclude_families: Sequence[str] = ()
    arch: Sequence[str] = ()
    zones: Sequence[str] = ()
    min_vcpu: int | None = None
    max_vcpu: int | None = None


def _where(catalog: RegionCatalog) -> str:
    return f"the {catalog.provider} {catalog.region} catalog"


def _check_families(option: str, values: Iterable[str], catalog: RegionCatalog) -> None:
    known = {t.family for t in catalog}
    for value in values:
        if value in known:
            continue
        close = get_close_matches(value, sorted(known), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise CliError(f"{option} {value}: no such instance family in {_where(catalog)}{hint}", EXIT_USAGE)


def _check_arch(values: Iterable[str], catalog: RegionCatalog) -> None:
    known = sorted({t.arch for t in catalog})
    for value in values:
        if value not in known:
            raise CliError(
                f"--arch {value}: {_where(catalog)} has only {', '.join(known)} instance types", EXIT_USAGE
            )


def _check_zones(values: Iterable[str], catalog: RegionCatalog) -> None:
    for zone in values:
        if region_from_zone(catalog.provider, zone) != catalog.region:
            raise CliError(
                f"--zone {zone}: not a zone of {catalog.provider} {catalog.region} "
                "(zones look like the nodes' topology.kubernetes.io/zone label, e.g. us-east-1a, "
                "us-central1-a, eastus-1)",
                EXIT_USAGE,
            )


def build_constraints(catalog: RegionCatalog, options: FilterOptions) -> Constraints:
    """Validated `Constraints` (capacity types are set per plan by the optimizer's savings report)."""
    _check_families("--family", options.families, catalog)
    _check_families("--exclude-family", options.exclude_families, catalog)
    _check_arch(options.arch, catalog)
    _check_zones(options.zones, catalog)
    low, high = options.min_vcpu, options.max_vcpu
    if low is not None and high is not None and low > high:
        raise CliError(f"--min-vcpu {low} is more than --max-vcpu {high}", EXIT_USAGE)
    return Constraints(
        families=frozenset(options.families) or None,
        exclude_families=frozenset(options.exclude_families),
        arch=frozenset(options.arch) or None,
        zones=tuple(dict.fromkeys(options.zones)) or None,
        min_vcpu=low,
        max_vcpu=high,
    )
