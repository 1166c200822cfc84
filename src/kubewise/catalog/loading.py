"""Load one provider/region's instance types from the catalog data packaged with kubewise.

Called by the CLI (`kubewise savings`), the benchmarks and tests; the optimizer receives the
`RegionCatalog` it returns. Data comes only from `kubewise/catalog/data/*.json.gz` (read through
`importlib.resources`, so it works from a wheel, a zip or an editable install); provenance and caveats
are in `data/PROVENANCE.md`, refreshed with `scripts/refresh_catalog.py`.

Each call parses only the requested provider's file (tens of milliseconds) and keeps nothing at
module level: the caller holds on to the catalog it loaded.

`max_pods` (pods the kubelet admits on a new node by default):
- AWS: the EKS AMI value for the VPC CNI without prefix delegation, `enis * (ipv4_per_eni - 1) + 2`,
  from `aws-max-pods.json`. Six older types priced in `aws.json` are absent there (p3.*, f1.*); their
  values come from `AWS_MAX_PODS_SUPPLEMENT`, copied from the EKS AMI's own table
  (`awslabs/amazon-eks-ami` `templates/shared/runtime/eni-max-pods.txt` at commit
  9e910f8743d16ac4704092ac54766fc84d375c53, same formula). Any other AWS type absent from both would
  get `DEFAULT_MAX_PODS`; `tests/catalog` checks that none is.
- GCP: 110, the GKE Standard default per node.
- Azure: 110, the AKS default with kubenet. Azure CNI Overlay defaults to 250 and classic Azure CNI
  to 30 pods per node; clusters using those admit a different number than the catalog assumes.
"""

from __future__ import annotations

import gzip
import json
from importlib.resources import files
from typing import Any

from kubewise.catalog.types import InstanceType, RegionCatalog

__all__ = [
    "AWS_MAX_PODS_SUPPLEMENT",
    "DEFAULT_MAX_PODS",
    "PROVIDERS",
    "CatalogError",
    "available_regions",
    "load_region",
]

PROVIDERS: tuple[str, ...] = ("aws", "gcp", "azure")
DEFAULT_MAX_PODS = 110  # kubelet default; GKE and AKS (kubenet) default; fallback for unlisted AWS types
_AWS_MAX_PODS_FILE = "aws-max-pods.json.gz"

# EKS AMI max pods for the packaged AWS types missing from aws-max-pods.json (provenance: module docstring).
AWS_MAX_PODS_SUPPLEMENT: dict[str, int] = {
    "f1.2xlarge": 58,
    "f1.4xlarge": 234,
    "f1.16xlarge": 394,
    "p3.2xlarge": 58,
    "p3.8xlarge": 234,
    "p3.16xlarge": 234,
}


class CatalogError(ValueError):
    """An unknown provider or region (the message lists the valid ones), or unreadable packaged data."""


def _read_packaged(name: str) -> Any:
    resource = files("kubewise.catalog") / "data" / name
    try:
        return json.loads(gzip.decompress(resource.read_bytes()))
    except (OSError, ValueError) as exc:  # missing file, bad gzip, bad JSON (JSONDecodeError is a ValueError)
        raise CatalogError(f"cannot read the packaged catalog file {name}: {exc}") from exc


def _check_provider(provider: str) -> str:
    normalized = provider.strip().lower()
    if normalized not in PROVIDERS:
        raise CatalogError(f"unknown provider {provider!r}; choose one of: {', '.join(PROVIDERS)}")
    return normalized


def _regions(provider: str) -> dict[str, list[dict[str, Any]]]:
    data = _read_packaged(f"{provider}.json.gz")
    regions = data.get("regions") if isinstance(data, dict) else None
    if not isinstance(regions, dict) or not regions:
        raise CatalogError(f"the packaged {provider} catalog has no regions")
    return regions


def available_regions(provider: str) -> list[str]:
    """The regions the packaged catalog covers for `provider`, sorted. CatalogError if unknown."""
    return sorted(_regions(_check_provider(provider)))


def _aws_max_pods() -> dict[str, int]:
    types = _read_packaged(_AWS_MAX_PODS_FILE).get("types", {})
    return AWS_MAX_PODS_SUPPLEMENT | {name: entry["max_pods"] for name, entry in types.items()}


def _instance_type(provider: str, region: str, rec: dict[str, Any], max_pods: int) -> InstanceType:
    return InstanceType(
        provider=provider,
        region=region,
        name=rec["name"],
        family=rec["family"],
        vcpu=int(rec["vcpu"]),
        memory_mib=int(rec["memory_mib"]),
        arch=rec["arch"],
        gpu=int(rec["gpu"] or 0),
        gpu_model=rec["gpu_model"],
        on_demand_price=float(rec["on_demand_hourly_usd"]),
        spot_price=None if rec["spot_hourly_usd"] is None else float(rec["spot_hourly_usd"]),
        max_pods=max_pods,
    )


def load_region(provider: str, region: str) -> RegionCatalog:
    """Every instance type `provider` offers in `region`, with prices and default max pods.

    `provider` is one of `PROVIDERS` (case-insensitive); `region` as the cloud spells it
    (`us-east-1`, `us-central1`, `eastus`). Raises CatalogError naming the valid choices.
    """
    provider = _check_provider(provider)
    regions = _regions(provider)
    records = regions.get(region.strip())
    if records is None:
        raise CatalogError(
            f"no {provider} catalog for region {region!r}; available: {', '.join(sorted(regions))}"
        )
    region = region.strip()
    aws_max_pods = _aws_max_pods() if provider == "aws" else {}
    try:
        types = tuple(
            _instance_type(provider, region, rec, aws_max_pods.get(rec["name"], DEFAULT_MAX_PODS))
            for rec in records
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"the packaged {provider} {region} catalog is malformed: {exc!r}") from exc
    return RegionCatalog(provider, region, types)
