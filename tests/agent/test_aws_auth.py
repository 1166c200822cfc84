"""aws-auth through the official client on the fake API server: kubewise's entries added once, every
other entry kept, a dry run writes nothing, offboarding removes only kubewise's, clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fake_kube_api import FakeApi, serve, write_kubeconfig
from kubewise.agent.aws_auth import CLUSTER_ROLE, GROUP, AwsAuthError, map_identities, unmap_identities
from kubewise.agent.cluster_reader import connect_api

CM = "/api/v1/namespaces/kube-system/configmaps/aws-auth"
ROLE = f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{CLUSTER_ROLE}"
BINDING = f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{CLUSTER_ROLE}"
USER = "arn:aws:iam::123456789012:user/kubewise-prod"
NODE_ROLE = "arn:aws:iam::123456789012:role/kubewise-prod-eks-1a2b3c4"
THEIR_ROLES = [
    {
        "rolearn": "arn:aws:iam::123456789012:role/eks-nodes",
        "username": "system:node:{{EC2PrivateDNSName}}",
        "groups": ["system:bootstrappers", "system:nodes"],
    }
]
THEIR_USERS = [
    {"userarn": "arn:aws:iam::123456789012:user/alice", "username": "alice", "groups": ["system:masters"]}
]


def _config_map(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system", "resourceVersion": "7"},
        "data": data,
    }


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeApi, Any]]:
    fake = FakeApi()
    fake.writable = True
    fake.stored[CM] = _config_map(mapRoles=yaml.safe_dump(THEIR_ROLES), mapUsers=yaml.safe_dump(THEIR_USERS))
    with serve(fake) as url:
        yield fake, connect_api(None, str(write_kubeconfig(tmp_path / "kubeconfig", url)))


def _entries(fake: FakeApi, key: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load(fake.stored[CM]["data"].get(key) or "[]"))


def _writes(fake: FakeApi) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in fake.requests if m != "GET"]


def test_maps_the_user_to_its_own_group_and_the_node_role_keeping_the_others(
    cluster: tuple[FakeApi, Any],
) -> None:
    fake, api = cluster
    changes = map_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)
    assert [(c.resource, c.action) for c in changes] == [
        ("aws-auth", "created"),
        ("aws-auth", "created"),
        ("cluster-role", "created"),
        ("cluster-role-binding", "created"),
    ]
    roles, users = _entries(fake, "mapRoles"), _entries(fake, "mapUsers")
    assert roles[0] == THEIR_ROLES[0] and users[0] == THEIR_USERS[0]
    assert roles[1] == {
        "rolearn": NODE_ROLE,
        "username": "system:node:{{EC2PrivateDNSName}}",
        "groups": ["system:bootstrappers", "system:nodes"],
    }
    assert users[1]["userarn"] == USER and users[1]["groups"] == [GROUP]  # not system:masters
    binding = fake.stored[BINDING]
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": GROUP}]
    rules = fake.stored[ROLE]["rules"]
    assert {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]} in rules
    assert not any("*" in r["verbs"] or "secrets" in r["resources"] for r in rules)


def test_running_again_writes_nothing(cluster: tuple[FakeApi, Any]) -> None:
    fake, api = cluster
    map_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)
    fake.requests.clear()
    again = map_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)
    assert {c.action for c in again} == {"unchanged"} and _writes(fake) == []


def test_a_changed_entry_of_ours_is_replaced_in_place(cluster: tuple[FakeApi, Any]) -> None:
    fake, api = cluster
    map_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)
    users = _entries(fake, "mapUsers")
    users[1]["groups"] = ["system:masters"]
    fake.stored[CM]["data"]["mapUsers"] = yaml.safe_dump(users)
    changes = map_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)
    assert [c.action for c in changes if c.name.startswith("mapUsers")] == ["updated"]
    assert [u["groups"] for u in _entries(fake, "mapUsers")] == [["system:masters"], [GROUP]]


def test_dry_run_only_reads(cluster: tuple[FakeApi, Any]) -> None:
    fake, api = cluster
    before = dict(fake.stored)
    changes = map_identities(api, user_arn=USER, node_role_arn=NODE_ROLE, dry_run=True)
    assert [c.action for c in changes] == ["created"] * 4
    assert _writes(fake) == [] and fake.stored == before


def test_without_a_user_only_the_node_role_is_mapped(cluster: tuple[FakeApi, Any]) -> None:
    fake, api = cluster
    changes = map_identities(api, user_arn=None, node_role_arn=NODE_ROLE)  # cross-account role mode
    assert [c.resource for c in changes] == ["aws-auth"]
    assert _entries(fake, "mapUsers") == THEIR_USERS and ROLE not in fake.stored


def test_a_cluster_without_aws_auth_gets_one(cluster: tuple[FakeApi, Any]) -> None:
    fake, api = cluster
    del fake.stored[CM]
    map_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)
    assert [e["rolearn"] for e in _entries(fake, "mapRoles")] == [NODE_ROLE]


def test_unmap_removes_only_ours(cluster: tuple[FakeApi, Any]) -> None:
    fake, api = cluster
    map_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)
    planned = unmap_identities(api, user_arn=USER, node_role_arn=NODE_ROLE, dry_run=True)
    assert ROLE in fake.stored and len(_entries(fake, "mapUsers")) == 2
    done = unmap_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)
    assert [c.action for c in planned] == [c.action for c in done] == ["deleted"] * 4
    assert _entries(fake, "mapRoles") == THEIR_ROLES and _entries(fake, "mapUsers") == THEIR_USERS
    assert ROLE not in fake.stored and BINDING not in fake.stored
    assert {c.action for c in unmap_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)} == {"absent"}


def test_errors_are_one_clear_line(cluster: tuple[FakeApi, Any]) -> None:
    fake, api = cluster
    fake.stored[CM]["data"]["mapUsers"] = "{not: [valid"
    with pytest.raises(AwsAuthError, match="mapUsers is not valid YAML"):
        map_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)
    fake.stored[CM]["data"]["mapUsers"] = yaml.safe_dump(THEIR_USERS)
    fake.forbid_writes = True
    with pytest.raises(AwsAuthError, match=r"cannot update kube-system/aws-auth: 403 .*cluster-admin"):
        map_identities(api, user_arn=USER, node_role_arn=NODE_ROLE)
    assert _entries(fake, "mapUsers") == THEIR_USERS  # nothing half-written
