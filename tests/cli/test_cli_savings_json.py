"""`kubewise savings --output json|yaml`: the contract of docs/savings-json.md, field by field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_cluster import (
    GPU_POD,
    check_current,
    check_plans,
    cluster_objects,
    documented_example,
    movable_pod_keys,
    run,
    run_json,
    snapshot_of,
    write_dump,
)

from kubewise.catalog.loading import load_region


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dump(tmp_path_factory.mktemp("json") / "cluster.json", cluster_objects())


@pytest.fixture(scope="module")
def doc(dump: Path) -> Any:
    return run_json("savings", dump)


def _shape(value: Any) -> Any:
    """Keys (recursively) and JSON types; lists by the shape of their first element."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def test_documented_example_has_exactly_the_fields_of_the_output(doc: Any) -> None:
    """docs/savings-json.md shows every field the command prints, and no field it does not print."""
    documented = _shape(documented_example())
    actual = _shape(doc)
    # fields that are null in one and a number in the other are still the same field
    assert _keys(documented) == _keys(actual)


def _keys(shape: Any, prefix: str = "") -> set[str]:
    if isinstance(shape, dict):
        out = set()
        for k, v in shape.items():
            out.add(f"{prefix}{k}")
            out |= _keys(v, f"{prefix}{k}.")
        return out
    if isinstance(shape, list) and shape:
        return _keys(shape[0], f"{prefix}[].")
    return set()


def test_every_list_of_the_example_is_exercised(doc: Any) -> None:
    """The fixture cluster fills every list the contract has, so the shape comparison above is complete."""
    on_demand = doc["plans"][0]
    assert doc["current"]["nodes"] and on_demand["node_mix"] and on_demand["nodes"]
    assert on_demand["unschedulable"] and all(n["pods"] and n["daemonset_pods"] for n in on_demand["nodes"])


def test_issue_contract_fields(doc: Any) -> None:
    assert {"provider", "region", "current", "plans"} <= doc.keys()
    assert {"hourly_cost", "nodes"} <= doc["current"].keys()
    assert [p["name"] for p in doc["plans"]] == ["on-demand", "spot"]
    for plan in doc["plans"]:
        assert {"name", "hourly_cost", "lower_bound", "nodes", "unschedulable"} <= plan.keys()
        for n in plan["nodes"]:
            assert {"instance_type", "capacity_type", "hourly_price", "pods"} <= n.keys()
        for u in plan["unschedulable"]:
            assert set(u) == {"pod", "reason"}


def test_every_movable_pod_once_and_prices_from_the_catalog(doc: Any) -> None:
    check_plans(doc, snapshot_of(cluster_objects()))
    check_current(doc)


def test_what_is_not_movable_is_not_planned(doc: Any) -> None:
    movable = movable_pod_keys(snapshot_of(cluster_objects()))
    assert "kube-system/kube-proxy-0" not in movable  # DaemonSet pod
    assert "kube-system/etcd-backup-ip-10-0-1-10.ec2.internal" not in movable  # static pod
    assert "batch/report-28711" not in movable  # Succeeded
    assert doc["pods"] == {
        "total": 13,
        "movable": 8,
        "daemonset": 3,
        "static": 1,
        "terminal_ignored": 1,
        "pending": 2,
    }


def test_pod_no_type_can_run_is_unschedulable_with_the_reason(doc: Any) -> None:
    for plan in doc["plans"]:
        (gpu,) = [u for u in plan["unschedulable"] if u["pod"] == GPU_POD]
        assert "nvidia.com/gpu" in gpu["reason"]


def test_derived_figures(doc: Any) -> None:
    current = doc["current"]
    assert current["monthly_cost"] == round(current["hourly_cost"] * 730, 2)
    for plan in doc["plans"]:
        assert plan["monthly_cost"] == round(plan["hourly_cost"] * 730, 2)
        gap = (plan["hourly_cost"] / plan["lower_bound"] - 1) * 100  # the output's figures are rounded
        assert plan["gap_percent"] == pytest.approx(gap, abs=0.01)
        expected_savings = (current["hourly_cost"] - plan["hourly_cost"]) / current["hourly_cost"] * 100
        assert plan["savings_percent"] == pytest.approx(expected_savings, abs=0.006)
        mix = {(m["instance_type"], m["capacity_type"]): m for m in plan["node_mix"]}
        assert sum(m["count"] for m in mix.values()) == len(plan["nodes"])
        for (itype, capacity), m in mix.items():
            same = [n for n in plan["nodes"] if (n["instance_type"], n["capacity_type"]) == (itype, capacity)]
            assert m["count"] == len(same) and m["hourly_cost"] == pytest.approx(
                m["count"] * m["hourly_price"]
            )


def test_spot_plan_uses_spot_prices(doc: Any) -> None:
    catalog = load_region("aws", "us-east-1")
    spot = doc["plans"][1]
    assert any(n["capacity_type"] == "spot" for n in spot["nodes"])
    for n in spot["nodes"]:
        if n["capacity_type"] == "spot":
            assert n["hourly_price"] == catalog.get(n["instance_type"]).spot_price  # type: ignore[union-attr]
    assert spot["hourly_cost"] <= doc["plans"][0]["hourly_cost"]


def test_no_spot_gives_only_the_on_demand_plan(dump: Path, doc: Any) -> None:
    no_spot = run_json("savings", dump, "--no-spot")
    assert [p["name"] for p in no_spot["plans"]] == ["on-demand"]
    assert no_spot["plans"][0] == doc["plans"][0]
    assert run_json("savings", dump, "--spot") == doc


def test_yaml_output_is_the_same_document(dump: Path, doc: Any) -> None:
    result = run("savings", dump, "--output", "yaml")
    assert result.exit_code == 0 and result.stderr == ""
    assert yaml.safe_load(result.stdout) == doc


def test_output_choices_are_checked(dump: Path) -> None:
    result = run("savings", dump, "--output", "xml")
    assert result.exit_code == 2
    assert "Invalid value for '--output' / '-o'" in result.stderr
    assert result.stdout == ""
