"""Spot from EC2 for nodes whose labels do not say, cached; without EC2 access, a condition instead."""

from __future__ import annotations

from typing import Any

from kubewise.agent.cloud_facts import SPOT_LABEL, CloudFacts
from kubewise.cloud.metadata import CloudQueryError, InstanceIdentity


def _node(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "kind": "Node",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"providerID": f"aws:///us-east-1a/i-{name}"},
    }


class Ec2:
    def __init__(self, spot: set[str], error: str | None = None) -> None:
        self.spot, self.error, self.calls = spot, error, []

    def identity(self) -> InstanceIdentity:
        raise AssertionError("not asked")

    def instance_tags(self, instance_id: str, region: str) -> dict[str, str]:
        raise AssertionError("not asked")

    def spot_instances(self, instance_ids: list[str], region: str) -> set[str]:
        self.calls.append(list(instance_ids))
        if self.error:
            raise CloudQueryError(self.error, "You are not authorized to perform this operation.")
        return self.spot & set(instance_ids)


def test_spot_nodes_get_the_label_and_each_instance_is_asked_once() -> None:
    ec2 = Ec2({"i-a"})
    facts = CloudFacts(ec2, "us-east-1")
    pod = {"kind": "Pod", "metadata": {"name": "p"}}
    nodes = [_node("a"), _node("b"), _node("c", {"karpenter.sh/capacity-type": "spot"}), pod]
    out = facts.apply(nodes)
    assert out[0]["metadata"]["labels"][SPOT_LABEL] == "true"
    assert SPOT_LABEL not in out[1]["metadata"]["labels"] and SPOT_LABEL not in out[2]["metadata"]["labels"]
    assert SPOT_LABEL not in nodes[0]["metadata"]["labels"]  # the input is not changed
    facts.apply([*nodes, _node("d")])
    assert ec2.calls == [["i-a", "i-b", "i-c"], ["i-d"]]
    assert facts.conditions[0]["status"] == "True"


def test_without_ec2_access_the_labels_stand_and_a_condition_says_why() -> None:
    facts = CloudFacts(Ec2(set(), error="UnauthorizedOperation"), "us-east-1")
    nodes = [_node("a")]
    assert facts.apply(nodes) == nodes
    (condition,) = facts.conditions
    assert condition["type"] == "CloudReadAccess" and condition["status"] == "False"
    assert (
        condition["reason"] == "UnauthorizedOperation" and "AmazonEC2ReadOnlyAccess" in condition["message"]
    )
