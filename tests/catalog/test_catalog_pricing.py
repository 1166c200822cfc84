"""`catalog.pricing`: pricing existing nodes from their labels, and where a cluster runs."""

from __future__ import annotations

import dataclasses

import pytest

from builders import node, small_catalog
from kubewise.catalog.loading import load_region
from kubewise.catalog.pricing import NodePrice, infer_location, price_node, with_spot_prices
from kubewise.model import Node


def test_on_demand_and_spot() -> None:
    cat = small_catalog()
    assert price_node(node("n1", "m.large", 1930, 7), cat) == NodePrice(
        "n1", "m.large", "on-demand", 0.10, True, ""
    )
    spot = price_node(node("n2", "m.xlarge", 3920, 15, capacity_type="spot"), cat)
    assert (spot.hourly_price, spot.known, spot.reason) == (0.08, True, "")


def test_spot_without_spot_price_falls_back_to_on_demand() -> None:
    p = price_node(node("n", "mg.xlarge", 3920, 15, capacity_type="spot"), small_catalog())
    assert p.known and p.hourly_price == 0.16 and p.capacity_type == "spot"
    assert "no spot price for 'mg.xlarge' in aws us-east-1" in p.reason and "on-demand" in p.reason


def test_unknown_type_is_never_priced_as_zero() -> None:
    p = price_node(node("n", "x9.huge", 1000, 1), load_region("aws", "us-east-1"))
    assert p == NodePrice(
        "n",
        "x9.huge",
        "on-demand",
        None,
        False,
        "instance type 'x9.huge' is not in the aws us-east-1 catalog",
    )


def test_missing_instance_type_label() -> None:
    p = price_node(node("n", "", 1000, 1), small_catalog())
    assert p.hourly_price is None and not p.known
    assert "no instance-type label" in p.reason


def test_provider_mismatch() -> None:
    n = dataclasses.replace(node("n", "m.large", 1000, 1), provider="gcp", region="us-central1")
    p = price_node(n, small_catalog())
    assert p.hourly_price is None and not p.known
    assert p.reason == "the node runs on gcp, the catalog covers aws us-east-1"


def test_region_mismatch() -> None:
    n = dataclasses.replace(node("n", "m5.large", 1000, 1), region="eu-west-1")
    p = price_node(n, load_region("aws", "us-east-1"))
    assert p.hourly_price is None and not p.known
    assert p.reason == "the node is in aws eu-west-1, the catalog covers aws us-east-1"


def test_unknown_location_is_priced_with_a_note() -> None:
    n = Node(
        "n",
        node("x", "m.large", 1, 1).allocatable,
        node("x", "m.large", 1, 1).capacity,
        instance_type="m.large",
    )
    p = price_node(n, small_catalog())
    assert p.known and p.hourly_price == 0.10
    assert "provider/region is not known" in p.reason


def test_azure_label_case_is_tolerated() -> None:
    n = dataclasses.replace(
        node("n", "standard_d2s_v5", 1, 1), provider="azure", region="westeurope", capacity_type="spot"
    )
    cat = load_region("azure", "westeurope")
    p = price_node(n, cat)
    assert p.known and p.hourly_price == cat.get("Standard_D2s_v5").spot_price  # type: ignore[union-attr]


def test_real_prices() -> None:
    cat = load_region("gcp", "us-central1")
    n = dataclasses.replace(node("n", "e2-standard-4", 1, 1), provider="gcp", region="us-central1")
    assert price_node(n, cat).hourly_price == pytest.approx(0.134023)
    spot = dataclasses.replace(n, capacity_type="spot")
    assert price_node(spot, cat).hourly_price == pytest.approx(0.080424)


def located(name: str, provider: str, region: str) -> Node:
    return dataclasses.replace(node(name, "m.large", 1, 1), provider=provider, region=region)


def test_infer_location_most_common() -> None:
    nodes = [
        located("a", "aws", "us-east-1"),
        located("b", "aws", "us-west-2"),
        located("c", "aws", "us-west-2"),
        located("d", "gcp", "us-central1"),
    ]
    assert infer_location(nodes) == ("aws", "us-west-2")


def test_infer_location_ties_are_alphabetical() -> None:
    nodes = [
        located("a", "gcp", "us-east1"),
        located("b", "aws", "us-west-2"),
        located("c", "aws", "eu-west-1"),
        located("d", "gcp", "us-central1"),
    ]
    assert infer_location(nodes) == ("aws", "eu-west-1")
    assert infer_location(reversed(nodes)) == ("aws", "eu-west-1")


def test_infer_location_region_belongs_to_the_provider() -> None:
    nodes = [
        located("a", "aws", "us-east-1"),
        located("b", "aws", ""),
        located("c", "aws", ""),
        located("d", "gcp", "us-central1"),
        located("e", "", "us-central1"),
    ]
    assert infer_location(nodes) == ("aws", "us-east-1")


def test_infer_location_unknown() -> None:
    assert infer_location([]) == (None, None)
    assert infer_location([located("a", "", "")]) == (None, None)
    assert infer_location([located("a", "", "eastus")]) == (None, "eastus")


def test_quoted_spot_prices_replace_the_estimates_of_the_types_quoted() -> None:
    cat = small_catalog()
    live = with_spot_prices(cat, {"m.large": 0.031, "mg.xlarge": 0.05, "m.xlarge": 0.0, "nope.large": 1.0})
    prices = {t.name: t.spot_price for t in live}
    assert prices["m.large"] == 0.031  # quoted
    assert prices["mg.xlarge"] == 0.05  # quoted where the catalog had no spot estimate
    assert prices["m.xlarge"] == 0.08  # a zero quote is no quote
    assert "nope.large" not in prices and len(live) == len(cat)
    assert [t.on_demand_price for t in live] == [t.on_demand_price for t in cat]
    assert with_spot_prices(cat, {}) is cat
