"""`catalog.loading`: every packaged provider/region loads with the README's counts, errors list choices."""

from __future__ import annotations

import gzip
import json
import time
from importlib.resources import files

import pytest

from kubewise.catalog.allocatable import node_allocatable
from kubewise.catalog.loading import (
    AWS_MAX_PODS_SUPPLEMENT,
    DEFAULT_MAX_PODS,
    PROVIDERS,
    CatalogError,
    available_regions,
    load_region,
)

# (provider, region, types, types with a spot price): the table in data/PROVENANCE.md.
COUNTS = [
    ("aws", "us-east-1", 1352, 890),
    ("aws", "us-east-2", 782, 771),
    ("aws", "us-west-2", 852, 840),
    ("aws", "eu-central-1", 788, 783),
    ("aws", "eu-west-1", 788, 776),
    ("aws", "ap-southeast-1", 659, 653),
    ("gcp", "us-central1", 519, 515),
    ("gcp", "us-east1", 519, 515),
    ("gcp", "us-west1", 519, 515),
    ("gcp", "europe-west1", 489, 485),
    ("gcp", "europe-west4", 496, 492),
    ("gcp", "asia-southeast1", 496, 492),
    ("azure", "eastus", 1261, 0),
    ("azure", "eastus2", 1257, 0),
    ("azure", "westus2", 1168, 0),
    ("azure", "centralus", 1218, 0),
    ("azure", "westeurope", 1201, 1192),
    ("azure", "northeurope", 1160, 1151),
]


def test_providers() -> None:
    assert PROVIDERS == ("aws", "gcp", "azure")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_available_regions_match_the_table(provider: str) -> None:
    assert available_regions(provider) == sorted(r for p, r, _, _ in COUNTS if p == provider)


@pytest.mark.parametrize(("provider", "region", "types", "spot"), COUNTS)
def test_every_region_loads_with_the_documented_counts(
    provider: str, region: str, types: int, spot: int
) -> None:
    cat = load_region(provider, region)
    assert (cat.provider, cat.region) == (provider, region)
    assert len(cat) == types
    assert sum(t.spot_price is not None for t in cat) == spot
    assert len({t.name for t in cat}) == types
    for t in cat:
        assert (t.provider, t.region) == (provider, region)
        assert t.vcpu > 0 and t.memory_mib > 0 and t.on_demand_price > 0
        assert t.arch in ("amd64", "arm64")
        assert t.spot_price is None or t.spot_price > 0
        assert t.max_pods > 0
        alloc = node_allocatable(t)  # every packaged type gets a usable allocatable
        assert alloc["cpu"] > 0 and alloc["memory"] > 0 and alloc["pods"] == t.max_pods


def test_aws_fields_and_max_pods() -> None:
    cat = load_region("aws", "us-east-1")
    m5 = cat.get("m5.large")
    assert m5 is not None
    assert (m5.family, m5.vcpu, m5.memory_mib, m5.arch, m5.gpu, m5.gpu_model) == (
        "m5",
        2,
        8192,
        "amd64",
        0,
        None,
    )
    assert m5.on_demand_price == pytest.approx(0.096)
    assert m5.spot_price == pytest.approx(0.03264)
    assert m5.max_pods == 29
    assert cat.get("m5.24xlarge").max_pods == 737  # type: ignore[union-attr]
    # absent from aws-max-pods.json: the EKS AMI's eni-max-pods.txt values, not the 110 fallback
    expected = {"p3.2xlarge": 58, "p3.8xlarge": 234, "p3.16xlarge": 234, "f1.2xlarge": 58, "f1.4xlarge": 234}
    for name, max_pods in expected.items():
        assert cat.get(name).max_pods == max_pods  # type: ignore[union-attr]
    assert AWS_MAX_PODS_SUPPLEMENT["f1.16xlarge"] == 394


def test_every_aws_type_has_a_known_max_pods() -> None:
    """No packaged AWS type silently gets DEFAULT_MAX_PODS: each is in aws-max-pods.json or the supplement."""
    raw = (files("kubewise.catalog") / "data" / "aws-max-pods.json.gz").read_bytes()
    known = set(json.loads(gzip.decompress(raw))["types"]) | set(AWS_MAX_PODS_SUPPLEMENT)
    for region in available_regions("aws"):
        unknown = {t.name for t in load_region("aws", region)} - known
        assert not unknown, f"{region}: {sorted(unknown)} would fall back to {DEFAULT_MAX_PODS} pods"


@pytest.mark.parametrize(("provider", "region"), [("gcp", "us-central1"), ("azure", "westeurope")])
def test_gke_and_aks_max_pods_default_to_110(provider: str, region: str) -> None:
    assert {t.max_pods for t in load_region(provider, region)} == {110}


def test_null_spot_is_none() -> None:
    assert all(t.spot_price is None for t in load_region("azure", "eastus"))
    d2 = load_region("azure", "westeurope").get("Standard_D2s_v5")
    assert d2 is not None and d2.spot_price is not None and d2.spot_price < d2.on_demand_price


def test_provider_is_case_insensitive() -> None:
    assert len(load_region("AWS", "us-east-2")) == 782


def test_unknown_provider_lists_the_providers() -> None:
    with pytest.raises(CatalogError, match=r"unknown provider 'oracle'; choose one of: aws, gcp, azure"):
        load_region("oracle", "us-east-1")
    with pytest.raises(ValueError, match="aws, gcp, azure"):  # CatalogError is a ValueError
        available_regions("digitalocean")


def test_unknown_region_lists_the_regions() -> None:
    with pytest.raises(CatalogError) as info:
        load_region("gcp", "us-east-1")
    message = str(info.value)
    assert "no gcp catalog for region 'us-east-1'" in message
    assert "asia-southeast1, europe-west1, europe-west4, us-central1, us-east1, us-west1" in message


def test_each_call_returns_a_fresh_catalog() -> None:
    a, b = load_region("gcp", "us-east1"), load_region("gcp", "us-east1")
    assert a is not b and a == b


def test_loading_us_east_1_is_fast() -> None:
    best = min(_timed(lambda: load_region("aws", "us-east-1")) for _ in range(3))
    assert best < 0.3, f"load_region('aws', 'us-east-1') took {best:.3f}s"


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def test_data_is_packaged_with_provenance() -> None:
    data = files("kubewise.catalog") / "data"
    for name in ("aws.json.gz", "gcp.json.gz", "azure.json.gz", "aws-max-pods.json.gz", "PROVENANCE.md"):
        assert (data / name).is_file(), name
    provenance = (data / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "scripts/refresh_catalog.py" in provenance and "# Instance-type catalog" in provenance
