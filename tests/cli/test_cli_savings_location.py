"""`kubewise savings --provider/--region`: inferred from the nodes, overridable, and clear when missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_cluster import (
    check_current,
    check_plans,
    cluster_objects,
    failure,
    node,
    pod,
    run_json,
    snapshot_of,
    write_dump,
)

WHERE = "e.g. --provider aws --region us-east-1"


def pending_only() -> list[dict[str, Any]]:
    return [pod("web-0", phase="Pending"), pod("web-1", phase="Pending", cpu="2", memory="4Gi")]


def unlabelled_nodes() -> list[dict[str, Any]]:
    """Nodes with no provider, region or instance-type facts (kind, bare metal...)."""
    objects = cluster_objects()
    for obj in objects:
        if obj["kind"] == "Node":
            obj["metadata"]["labels"] = {"kubernetes.io/hostname": obj["metadata"]["name"]}
            obj["spec"] = {}
    return objects


def test_inferred_from_node_labels_and_provider_id(tmp_path: Path) -> None:
    objects = cluster_objects()
    for obj in objects:
        if obj["kind"] == "Node":  # region from the zone in spec.providerID when the labels are absent
            del obj["metadata"]["labels"]["topology.kubernetes.io/region"]
            del obj["metadata"]["labels"]["topology.kubernetes.io/zone"]
    doc = run_json("savings", write_dump(tmp_path / "c.json", objects))
    assert (doc["provider"], doc["region"]) == ("aws", "us-east-1")


def test_no_nodes_and_no_location_says_where_to_plan(tmp_path: Path) -> None:
    path = write_dump(tmp_path / "pending.json", pending_only())
    assert failure("savings", path, code=2) == (
        f"the input has no nodes to infer the provider and region from; say where to plan: "
        f"pass --provider and --region, {WHERE}"
    )
    assert "infer the region from" in failure("savings", path, "--provider", "aws", code=2)
    assert "infer the provider from" in failure("savings", path, "--region", "us-east-1", code=2)


@pytest.mark.parametrize(
    ("provider", "region"), [("aws", "us-east-1"), ("GCP", "us-central1"), ("azure", "westeurope")]
)
def test_no_nodes_plans_where_told(tmp_path: Path, provider: str, region: str) -> None:
    objects = pending_only()
    doc = run_json(
        "savings", write_dump(tmp_path / "p.json", objects), "--provider", provider, "--region", region
    )
    assert (doc["provider"], doc["region"]) == (provider.lower(), region)
    assert doc["current"] == {"hourly_cost": 0, "monthly_cost": 0.0, "complete": True, "nodes": []}
    assert [p["savings_percent"] for p in doc["plans"]] == [None] * len(doc["plans"])
    check_plans(doc, snapshot_of(objects))


def test_nodes_without_location_facts(tmp_path: Path) -> None:
    path = write_dump(tmp_path / "c.json", unlabelled_nodes())
    assert failure("savings", path, code=2) == (
        "cannot tell the provider and region from the nodes' labels (topology.kubernetes.io/region) or "
        f"spec.providerID; pass --provider and --region, {WHERE}"
    )


def test_unlabelled_nodes_with_a_location_are_reported_unpriced(tmp_path: Path) -> None:
    objects = unlabelled_nodes()
    doc = run_json(
        "savings", write_dump(tmp_path / "c.json", objects), "--provider", "aws", "--region", "us-east-1"
    )
    assert doc["current"]["complete"] is False
    assert all(not n["priced"] and "instance-type label" in n["note"] for n in doc["current"]["nodes"])
    assert [p["savings_percent"] for p in doc["plans"]] == [None, None]
    check_current(doc)
    check_plans(doc, snapshot_of(objects))


def test_region_option_overrides_the_nodes(tmp_path: Path) -> None:
    doc = run_json("savings", write_dump(tmp_path / "c.json", cluster_objects()), "--region", "us-west-2")
    assert (doc["provider"], doc["region"]) == ("aws", "us-west-2")
    notes = {n["note"] for n in doc["current"]["nodes"]}
    assert notes == {"the node is in aws us-east-1, the catalog covers aws us-west-2"}
    assert doc["current"]["complete"] is False  # never priced as 0, never with another region's price


def test_provider_other_than_the_nodes_needs_a_region(tmp_path: Path) -> None:
    path = write_dump(tmp_path / "c.json", cluster_objects())
    assert failure("savings", path, "--provider", "gcp", code=2) == (
        "--provider gcp is not where the nodes run (aws): pass --region for gcp too"
    )
    doc = run_json("savings", path, "--provider", "gcp", "--region", "europe-west4")
    assert (doc["provider"], doc["region"]) == ("gcp", "europe-west4")
    assert all(
        n["note"] == "the node runs on aws, the catalog covers gcp europe-west4"
        for n in doc["current"]["nodes"]
    )


def test_provider_is_case_insensitive_against_the_nodes(tmp_path: Path) -> None:
    doc = run_json("savings", write_dump(tmp_path / "c.json", cluster_objects()), "--provider", " AWS ")
    assert (doc["provider"], doc["region"]) == ("aws", "us-east-1")


def test_unknown_region_lists_the_packaged_ones(tmp_path: Path) -> None:
    path = write_dump(tmp_path / "c.json", cluster_objects())
    assert failure("savings", path, "--region", "mars-1", code=2) == (
        "no aws catalog for region 'mars-1'; available: ap-southeast-1, eu-central-1, eu-west-1, "
        "us-east-1, us-east-2, us-west-2"
    )


def test_nodes_in_a_region_the_catalog_lacks(tmp_path: Path) -> None:
    objects = [node("n1", "m5.large", "ap-south-1a"), pod("p", node_name="n1")]
    objects[0]["metadata"]["labels"]["topology.kubernetes.io/region"] = "ap-south-1"
    message = failure("savings", write_dump(tmp_path / "c.json", objects), code=2)
    assert message.startswith("no aws catalog for region 'ap-south-1'; available: ")


def test_unknown_provider(tmp_path: Path) -> None:
    path = write_dump(tmp_path / "p.json", pending_only())
    message = failure("savings", path, "--provider", "oci", "--region", "x", code=2)
    assert message == "unknown provider 'oci'; choose one of: aws, gcp, azure"
