"""`catalog.types`: `InstanceType.price`, `RegionCatalog` lookups, `filter` and `cheapest`."""

from __future__ import annotations

import pytest

from builders import catalog, itype, small_catalog
from kubewise.catalog.loading import load_region
from kubewise.catalog.types import RegionCatalog


def names(cat: RegionCatalog) -> list[str]:
    return [t.name for t in cat]


def test_price_by_capacity_type() -> None:
    t = itype("m.large", 2, 8, 0.10, spot=0.04)
    assert t.price("on-demand") == 0.10
    assert t.price("spot") == 0.04
    assert itype("x.large", 2, 8, 0.10).price("spot") is None
    with pytest.raises(ValueError, match="unknown capacity type"):
        t.price("reserved")


def test_get_lookup_len_iter() -> None:
    cat = small_catalog()
    assert len(cat) == 8
    assert names(cat)[0] == "m.large"
    assert cat.get("c.xlarge") is not None
    assert cat.get("C.XLARGE") is None
    assert cat.lookup("C.XLARGE") is cat.get("c.xlarge")
    assert cat.lookup("nope") is None


def test_lookup_is_case_insensitive_on_real_azure_names() -> None:
    cat = load_region("azure", "eastus")
    assert cat.lookup("standard_d2s_v5") is cat.get("Standard_D2s_v5") is not None


def test_filter_families_and_exclusions() -> None:
    cat = small_catalog()
    assert names(cat.filter(families=["c"])) == ["c.xlarge", "c.2xlarge"]
    assert "m.large" not in names(cat.filter(exclude_families=["m"]))
    assert names(cat.filter(families=["c", "m"], exclude_families=["m"])) == ["c.xlarge", "c.2xlarge"]
    assert len(cat.filter(families=[])) == 0


def test_filter_keeps_provider_and_region() -> None:
    sub = small_catalog().filter(arch=["arm64"])
    assert (sub.provider, sub.region) == ("aws", "us-east-1")
    assert names(sub) == ["mg.xlarge"]
    assert sub.get("mg.xlarge") is not None and sub.get("m.large") is None


def test_filter_gpu_and_capacity_type() -> None:
    cat = small_catalog()
    assert names(cat.filter(gpu=True)) == ["g.2xlarge"]
    assert "g.2xlarge" not in names(cat.filter(gpu=False))
    assert len(cat.filter(gpu=False)) == 7
    assert "mg.xlarge" not in names(cat.filter(capacity_type="spot"))  # no spot price
    assert len(cat.filter(capacity_type="on-demand")) == 8


def test_filter_size_bounds() -> None:
    cat = small_catalog()
    assert names(cat.filter(min_vcpu=8, max_vcpu=8)) == ["m.2xlarge", "c.2xlarge", "g.2xlarge"]
    assert names(cat.filter(min_memory_mib=64 * 1024)) == ["m.4xlarge"]
    assert names(cat.filter(max_memory_mib=8 * 1024)) == ["m.large", "c.xlarge"]


def test_filter_real_catalog_gpu_and_arch() -> None:
    cat = load_region("aws", "us-east-1")
    gpus = cat.filter(gpu=True)
    assert len(gpus) > 0 and all(t.gpu > 0 for t in gpus)
    assert gpus.get("g4dn.xlarge") is not None and gpus.get("m5.large") is None
    arm = cat.filter(arch=["arm64"])
    assert len(arm) == 396 and all(t.arch == "arm64" for t in arm)
    assert len(cat.filter(arch=["amd64", "arm64"])) == len(cat)
    spot = cat.filter(capacity_type="spot")
    assert len(spot) == 890
    gcp_arm_gpu = load_region("gcp", "us-central1").filter(arch=["arm64"], gpu=True)
    assert len(gcp_arm_gpu) == 0


def test_cheapest() -> None:
    cat = small_catalog()
    assert cat.cheapest().name == "m.large"  # type: ignore[union-attr]
    assert cat.cheapest("spot").name == "m.large"  # type: ignore[union-attr]
    assert cat.filter(arch=["arm64"]).cheapest("spot") is None
    assert catalog().cheapest() is None
    tie = catalog(itype("b.large", 2, 8, 0.1), itype("a.large", 2, 8, 0.1))
    assert tie.cheapest().name == "a.large"  # type: ignore[union-attr]


def test_cheapest_real_catalog() -> None:
    cat = load_region("aws", "us-east-1")
    cheapest = cat.cheapest()
    assert cheapest is not None
    assert cheapest.on_demand_price == min(t.on_demand_price for t in cat)
    spot = cat.cheapest("spot")
    assert spot is not None and spot.spot_price == min(t.spot_price for t in cat if t.spot_price is not None)
