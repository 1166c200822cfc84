"""`SimulatedCloud`: idempotent creation, shortages as `CapacityError`, provisioning delay, interruptions."""

from __future__ import annotations

import pytest

from builders import catalog, itype
from kubewise.cloud.provider import CapacityError, NodeRequest
from kubewise.cloud.simulated import SimulatedCloud

CATALOG = catalog(itype("m.xlarge", 4, 16, 0.20, spot=0.08), itype("r.xlarge", 4, 32, 0.25, spot=0.09))


def test_creation_is_idempotent_per_client_token_and_spread_over_the_types() -> None:
    now = [0.0]
    cloud = SimulatedCloud(CATALOG, lambda: now[0], provisioning_seconds=60)
    request = NodeRequest("action-1", ("m.xlarge", "r.xlarge"), "spot", "us-east-1a", 3)
    made = cloud.create_nodes(request)
    assert [i.instance_type for i in made] == ["m.xlarge", "r.xlarge", "m.xlarge"]
    assert cloud.create_nodes(request) == made and len(cloud.instances) == 3  # a retry creates nothing
    assert {i.state for i in cloud.describe([i.instance_id for i in made])} == {"pending"}
    now[0] = 60
    assert {i.state for i in cloud.describe([i.instance_id for i in made])} == {"running"}
    assert cloud.hourly_cost() == pytest.approx(0.08 + 0.09 + 0.08)
    assert made[0].provider_id == f"aws:///us-east-1a/{made[0].instance_id}"


def test_a_shortage_is_a_capacity_error_naming_the_offerings() -> None:
    cloud = SimulatedCloud(CATALOG, lambda: 0.0, shortages={("m.xlarge", "spot"), ("r.xlarge", "spot")})
    with pytest.raises(CapacityError) as err:
        cloud.create_nodes(NodeRequest("a", ("m.xlarge", "r.xlarge"), "spot", "us-east-1a", 1))
    assert err.value.offerings == (("m.xlarge", "spot"), ("r.xlarge", "spot"))
    assert cloud.create_nodes(NodeRequest("b", ("m.xlarge",), "on-demand", "us-east-1a", 1))
    with pytest.raises(ValueError, match="offered"):
        cloud.create_nodes(NodeRequest("c", ("nope.large",), "spot", "us-east-1a", 1))


def test_an_interruption_notice_comes_before_the_termination() -> None:
    now = [0.0]
    cloud = SimulatedCloud(CATALOG, lambda: now[0])
    (inst,) = cloud.create_nodes(NodeRequest("a", ("m.xlarge",), "spot", "us-east-1a", 1))
    cloud.interrupt(inst.instance_id, grace_seconds=120)
    now[0] = 60
    assert cloud.describe([inst.instance_id])[0].state == "running" and inst.instance_id in cloud.notices
    now[0] = 120
    assert cloud.describe([inst.instance_id])[0].state == "terminated"
    cloud.terminate(["i-unknown"])  # not an error
