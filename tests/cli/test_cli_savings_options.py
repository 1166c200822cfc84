"""`kubewise savings` filters (--family, --exclude-family, --arch, --zone, --min/--max-vcpu), checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_cluster import check_plans, cluster_objects, failure, run, run_json, snapshot_of, write_dump

from kubewise.catalog.loading import load_region

CATALOG = load_region("aws", "us-east-1")


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dump(tmp_path_factory.mktemp("options") / "cluster.json", cluster_objects())


def planned(doc: Any) -> list[dict[str, Any]]:
    return [n for plan in doc["plans"] for n in plan["nodes"]]


def plan_with(dump: Path, *args: str) -> Any:
    doc = run_json("savings", dump, *args)
    check_plans(doc, snapshot_of(cluster_objects()))
    assert planned(doc), "the filter still leaves room to plan"
    return doc


def test_family_restricts_the_instance_types(dump: Path) -> None:
    doc = plan_with(dump, "--family", "m6i", "--family", "c6i")
    assert {CATALOG.get(n["instance_type"]).family for n in planned(doc)} <= {"m6i", "c6i"}  # type: ignore[union-attr]


def test_exclude_family(dump: Path) -> None:
    default = {n["instance_type"].split(".")[0] for n in planned(run_json("savings", dump))}
    doc = plan_with(dump, *(arg for family in sorted(default) for arg in ("--exclude-family", family)))
    assert not {n["instance_type"].split(".")[0] for n in planned(doc)} & default


def test_arch(dump: Path) -> None:
    doc = plan_with(dump, "--arch", "arm64")
    assert {CATALOG.get(n["instance_type"]).arch for n in planned(doc)} == {"arm64"}  # type: ignore[union-attr]


def test_zone(dump: Path) -> None:
    doc = plan_with(dump, "--zone", "us-east-1b", "--zone", "us-east-1c")
    assert {n["zone"] for n in planned(doc)} <= {"us-east-1b", "us-east-1c"}


def test_vcpu_bounds(dump: Path) -> None:
    doc = plan_with(dump, "--min-vcpu", "4", "--max-vcpu", "8")
    assert {CATALOG.get(n["instance_type"]).vcpu for n in planned(doc)} <= {4, 6, 8}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--family", "m9x"),
            "--family m9x: no such instance family in the aws us-east-1 catalog; did you mean ",
        ),
        (("--family", "zz"), "--family zz: no such instance family in the aws us-east-1 catalog"),
        (
            ("--exclude-family", "m5z"),
            "--exclude-family m5z: no such instance family in the aws us-east-1 catalog",
        ),
        (
            ("--arch", "x86_64"),
            "--arch x86_64: the aws us-east-1 catalog has only amd64, arm64 instance types",
        ),
        (("--zone", "us-west-2a"), "--zone us-west-2a: not a zone of aws us-east-1 (zones look like "),
        (("--min-vcpu", "16", "--max-vcpu", "8"), "--min-vcpu 16 is more than --max-vcpu 8"),
    ],
)
def test_bad_filters_are_usage_errors(dump: Path, args: tuple[str, ...], expected: str) -> None:
    assert failure("savings", dump, *args, code=2).startswith(expected)


def test_close_family_names_are_suggested(dump: Path) -> None:
    message = failure("savings", dump, "--family", "m6", code=2)
    suggested = message.rsplit("did you mean ", 1)[1].removesuffix("?").split(", ")
    assert sorted(suggested) == ["m6a", "m6g", "m6i"]


def test_non_positive_vcpu_is_rejected_by_the_parser(dump: Path) -> None:
    result = run("savings", dump, "--max-vcpu", "0")
    assert result.exit_code == 2 and "Invalid value for '--max-vcpu'" in result.stderr


def test_filters_leaving_no_type_make_pods_unschedulable_not_free(dump: Path) -> None:
    doc = run_json("savings", dump, "--family", "t2", "--min-vcpu", "64")
    for plan in doc["plans"]:
        assert (plan["nodes"], plan["hourly_cost"], plan["lower_bound"]) == ([], 0.0, 0.0)
        assert {u["reason"] for u in plan["unschedulable"]} >= {
            "no instance type in the catalog matches the plan's constraints"
        }


def test_filters_leaving_no_type_still_list_each_pod_once(dump: Path) -> None:
    check_plans(
        run_json("savings", dump, "--family", "t2", "--min-vcpu", "64"), snapshot_of(cluster_objects())
    )
