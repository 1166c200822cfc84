"""`onboard` / `offboard` on moto (IAM, STS, EC2, EKS, Auto Scaling): what is created, idempotence, dry
runs, the cross-account role's trust, clear errors, and that the policies allow every EC2 call the
cluster controller's `AwsProvider` makes (and nothing outside the cluster)."""

from __future__ import annotations

import ast
import fnmatch
import inspect
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.authorization import enable_iam_authentication

from aws_world import ACCOUNT, REGION, aws_env, eks_cluster, kops_cluster
from kubewise.cloud.aws import onboarding_policies as docs
from kubewise.cloud.aws import provider as provider_module
from kubewise.cloud.aws.onboarding import OnboardingError, OnboardRequest, offboard, onboard

EKS = OnboardRequest("eks", "prod", REGION)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    aws_env(monkeypatch)
    with mock_aws():
        yield eks_cluster("prod")


def _iam() -> Any:
    return boto3.client("iam", region_name=REGION)


def _state() -> dict[str, Any]:
    """Everything IAM holds that onboarding could touch."""
    iam = _iam()
    users = {u["UserName"]: u for u in iam.list_users()["Users"]}
    out: dict[str, Any] = {
        "users": sorted(users),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "policies": sorted(p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]),
        "profiles": sorted(
            p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
        ),
    }
    for user in users:
        out[f"keys/{user}"] = [
            k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        ]
        out[f"attached/{user}"] = sorted(
            p["PolicyName"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
        )
        out[f"inline/{user}"] = iam.list_user_policies(UserName=user)["PolicyNames"]
    return out


def _attached_role(role: str) -> set[str]:
    return {p["PolicyArn"] for p in _iam().list_attached_role_policies(RoleName=role)["AttachedPolicies"]}


def test_eks_user_gets_every_policy_role_and_one_key(aws: dict[str, Any]) -> None:
    result = onboard(EKS)
    iam = _iam()
    assert result.identity_arn == f"arn:aws:iam::{ACCOUNT}:user/kubewise-prod" and result.vpc_id == aws["vpc"]
    attached = {
        p["PolicyName"] for p in iam.list_attached_user_policies(UserName="kubewise-prod")["AttachedPolicies"]
    }
    assert attached == {"AmazonEC2ReadOnlyAccess", "IAMReadOnlyAccess", "KubewiseEKSPolicy"}
    inline = iam.get_user_policy(UserName="kubewise-prod", PolicyName=docs.INLINE_POLICY_NAME)[
        "PolicyDocument"
    ]
    text = json.dumps(inline)
    assert f"vpc/{aws['vpc']}" in text and "kubernetes.io/cluster/prod" in text and aws["asg"] in text
    assert "nodegroup/prod/*" in text and result.node_role_arn in text
    assert _attached_role(docs.LAMBDA_ROLE_NAME) == set(docs.LAMBDA_ROLE_POLICIES)
    node_role = result.node_role_arn.rsplit("/", 1)[-1]
    assert node_role.startswith("kubewise-prod-eks-") and len(node_role) == len("kubewise-prod-eks-") + 7
    assert _attached_role(node_role) == set(docs.NODE_ROLE_POLICIES)
    profile = iam.get_instance_profile(InstanceProfileName=node_role)["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [node_role]
    keys = iam.list_access_keys(UserName="kubewise-prod")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [result.access_key_id] and result.secret_access_key
    assert {c.action for c in result.changes} == {"created"}


def test_running_again_changes_nothing_and_keeps_the_key(aws: dict[str, Any]) -> None:
    first = onboard(EKS)
    before = _state()
    again = onboard(OnboardRequest("eks", "prod", REGION, platform_key_id=first.access_key_id))
    assert {c.action for c in again.changes} == {"unchanged"}, [
        c for c in again.changes if c.action != "unchanged"
    ]
    assert again.access_key_id == first.access_key_id and again.secret_access_key is None
    assert _state() == before


def test_a_key_the_platform_does_not_hold_or_a_rotation_is_replaced_keeping_one(aws: dict[str, Any]) -> None:
    first = onboard(EKS)
    unknown = onboard(EKS)  # the platform holds no key (or another one): the old secret is lost to it
    assert unknown.access_key_id != first.access_key_id and unknown.secret_access_key
    rotated = onboard(
        OnboardRequest("eks", "prod", REGION, rotate_key=True, platform_key_id=unknown.access_key_id)
    )
    keys = [k["AccessKeyId"] for k in _iam().list_access_keys(UserName="kubewise-prod")["AccessKeyMetadata"]]
    assert keys == [rotated.access_key_id] and rotated.access_key_id != unknown.access_key_id
    assert {c.name.split(": ")[1] for c in rotated.changes if c.action == "deleted"} == {
        unknown.access_key_id
    }


def test_dry_run_reports_the_changes_of_a_real_run_and_makes_none(aws: dict[str, Any]) -> None:
    before = _state()
    planned = onboard(EKS, dry_run=True)
    assert _state() == before
    done = onboard(EKS)
    assert [(c.resource, c.action) for c in planned.changes] == [(c.resource, c.action) for c in done.changes]
    assert planned.secret_access_key is None and planned.identity_arn == done.identity_arn


def test_drifted_policies_are_put_back(aws: dict[str, Any]) -> None:
    first = onboard(EKS)
    iam = _iam()
    arn = f"arn:aws:iam::{ACCOUNT}:policy/KubewiseEKSPolicy"
    loose = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(loose), SetAsDefault=True)
    iam.put_user_policy(
        UserName="kubewise-prod", PolicyName=docs.INLINE_POLICY_NAME, PolicyDocument=json.dumps(loose)
    )
    again = onboard(OnboardRequest("eks", "prod", REGION, platform_key_id=first.access_key_id))
    assert {(c.resource, c.action) for c in again.changes if c.action != "unchanged"} == {
        ("managed-policy", "updated"),
        ("inline-policy", "updated"),
    }
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    default = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert default["Document"] == docs.managed_policy(ACCOUNT)


def _principal(name: str) -> tuple[str, dict[str, str]]:
    iam = _iam()
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=json.dumps(allow))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def test_cross_account_role_is_assumable_only_by_the_principal_with_the_external_id(
    aws: dict[str, Any],
) -> None:
    platform, platform_key = _principal("platform")
    _, intruder_key = _principal("intruder")
    request = OnboardRequest("eks", "prod", REGION, cross_account_role=True, trusted_principal=platform)
    result = onboard(request)
    assert (
        result.identity_arn == f"arn:aws:iam::{ACCOUNT}:role/kubewise-prod" and result.access_key_id is None
    )
    assert result.external_id and len(result.external_id) == 32
    assert "kubewise-prod" not in [u["UserName"] for u in _iam().list_users()["Users"]]
    assert {"AmazonEC2ReadOnlyAccess", "IAMReadOnlyAccess", "KubewiseEKSPolicy"} == {
        arn.rsplit("/", 1)[-1] for arn in _attached_role("kubewise-prod")
    }
    with enable_iam_authentication():
        sts = boto3.client("sts", region_name=REGION, **platform_key)
        creds = sts.assume_role(
            RoleArn=result.identity_arn, RoleSessionName="kubewise", ExternalId=result.external_id
        )["Credentials"]
        assert creds["AccessKeyId"]
        with pytest.raises(ClientError, match="AccessDenied"):
            sts.assume_role(RoleArn=result.identity_arn, RoleSessionName="kubewise", ExternalId="guessed")
        with pytest.raises(ClientError, match="AccessDenied"):
            boto3.client("sts", region_name=REGION, **intruder_key).assume_role(
                RoleArn=result.identity_arn, RoleSessionName="kubewise", ExternalId=result.external_id
            )
    again = onboard(request)  # the role's external id is kept, not regenerated
    assert again.external_id == result.external_id and {c.action for c in again.changes} == {"unchanged"}
    given = onboard(OnboardRequest("eks", "prod", REGION, True, platform, external_id="chosen-by-platform"))
    assert given.external_id == "chosen-by-platform"
    assert [c.action for c in given.changes if c.name == "kubewise-prod" and c.resource == "iam-role"] == [
        "updated"
    ]


def test_kops_cluster_vpc_comes_from_its_tagged_instances(monkeypatch: pytest.MonkeyPatch) -> None:
    aws_env(monkeypatch)
    with mock_aws():
        eks_cluster("prod")  # another cluster in another VPC of the account
        kops = kops_cluster("k8s.example.com")
        result = onboard(OnboardRequest("kops", "k8s.example.com", REGION))
        assert result.vpc_id == kops["vpc"]
        assert result.node_role_arn == f"arn:aws:iam::{ACCOUNT}:role/nodes.k8s.example.com"
        iam = _iam()
        user = "kubewise-k8s.example.com"
        names = {p["PolicyName"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]}
        assert "KubewiseKopsPolicy" in names
        inline = json.dumps(
            iam.get_user_policy(UserName=user, PolicyName=docs.INLINE_POLICY_NAME)["PolicyDocument"]
        )
        assert kops["asg"] in inline and "eks:" not in inline  # its group (KubernetesCluster tag only)
        assert not [r for r in iam.list_roles()["Roles"] if "-eks-" in r["RoleName"]]  # kOps has node roles


@pytest.mark.parametrize("provider", ["eks", "kops"])
def test_a_cluster_that_is_not_there_is_a_clear_error(aws: dict[str, Any], provider: str) -> None:
    before = _state()
    with pytest.raises(OnboardingError, match=rf"cluster 'staging' not found in {REGION}.*--cluster-name"):
        onboard(OnboardRequest(provider, "staging", REGION))
    assert _state() == before


def test_an_identity_without_iam_permissions_gets_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    aws_env(monkeypatch)
    with mock_aws():  # kOps: moto checks EC2 and IAM calls against the caller's policies (not EKS's)
        kops_cluster("k8s.example.com")
        iam = _iam()
        iam.create_user(UserName="intern")  # may read EC2, nothing in IAM
        iam.attach_user_policy(UserName="intern", PolicyArn=docs.EC2_READ_ONLY)
        key = iam.create_access_key(UserName="intern")["AccessKey"]
        session = boto3.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name=REGION,
        )
        with enable_iam_authentication(), pytest.raises(OnboardingError) as failed:
            onboard(OnboardRequest("kops", "k8s.example.com", REGION), session=session)
        message = str(failed.value)
        assert "user/intern is not allowed to call GetPolicy (AccessDenied)" in message
        assert "docs/onboarding.md" in message and key["SecretAccessKey"] not in message
        assert "kubewise-k8s.example.com" not in [u["UserName"] for u in iam.list_users()["Users"]]


def test_no_credentials_is_a_clear_error(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(OnboardingError, match="no AWS credentials"):
        onboard(EKS)


def test_offboard_removes_everything_and_shared_parts_with_the_last_cluster(aws: dict[str, Any]) -> None:
    empty = _state()
    eks_cluster("dev", "10.2.0.0/16")
    onboard(EKS)
    onboard(OnboardRequest("eks", "dev", REGION))
    before = _state()
    planned = offboard(EKS, dry_run=True)
    assert _state() == before
    done = offboard(EKS)
    assert [(c.resource, c.action) for c in planned.changes] == [(c.resource, c.action) for c in done.changes]
    state = _state()
    assert "kubewise-prod" not in state["users"] and "kubewise-dev" in state["users"]
    assert (
        docs.LAMBDA_ROLE_NAME in state["roles"] and "KubewiseEKSPolicy" in state["policies"]
    )  # dev uses them
    assert not [r for r in state["roles"] if r.startswith("kubewise-prod")]
    offboard(OnboardRequest("eks", "dev", REGION))
    assert _state() == empty
    assert {c.action for c in offboard(EKS).changes} == {"absent"}  # again: nothing left to remove


def test_cross_account_role_is_offboarded_too(aws: dict[str, Any]) -> None:
    onboard(OnboardRequest("eks", "prod", REGION, True, f"arn:aws:iam::{ACCOUNT}:user/platform"))
    offboard(EKS)
    assert not [r for r in _state()["roles"] if r.startswith(("kubewise-", "Kubewise"))]


def test_long_cluster_names_fit_iam_limits() -> None:
    long = "c" * 100  # EKS allows 100 characters
    assert len(docs.identity_name(long)) <= 64 and len(docs.node_role_name(long, ACCOUNT, REGION)) <= 64
    assert docs.identity_name(long) != docs.identity_name(long[:-1] + "d")
    assert docs.node_role_name("prod", ACCOUNT, REGION) != docs.node_role_name("prod", ACCOUNT, "eu-west-1")


# --- every EC2 call of the cluster controller is allowed, inside the cluster only ---------------------

VPC_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/"
_EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
OURS = {"aws:RequestTag/kubernetes.io/cluster/prod": "owned"}


def _launch(action: str, vpc: str) -> list[tuple[str, str, dict[str, str]]]:
    """What a RunInstances / CreateFleet from a launch template asks IAM for, resource by resource
    (tags at launch are a CreateTags with ec2:CreateAction)."""
    return [
        (action, f"{_EC2}:instance/i-1", OURS),
        (action, f"{_EC2}:subnet/subnet-1", {"ec2:Vpc": VPC_ARN + vpc}),
        (action, f"{_EC2}:network-interface/eni-1", {}),
        (action, f"{_EC2}:security-group/sg-1", {}),
        (action, f"{_EC2}:volume/vol-1", {}),
        (action, f"arn:aws:ec2:{REGION}::image/ami-1", {}),
        (action, f"{_EC2}:launch-template/lt-1", {}),
        (action, f"{_EC2}:spot-instances-request/sir-1", {}),
        ("ec2:CreateTags", f"{_EC2}:instance/i-1", {**OURS, "ec2:CreateAction": action.split(":")[1]}),
        ("ec2:CreateTags", f"{_EC2}:volume/vol-1", {"ec2:CreateAction": action.split(":")[1]}),
    ]


def _required(vpc: str) -> dict[str, list[tuple[str, str, dict[str, str]]]]:
    owned = {"ec2:ResourceTag/kubernetes.io/cluster/prod": "owned"}
    return {
        "RunInstances": _launch("ec2:RunInstances", vpc),
        "CreateFleet": [("ec2:CreateFleet", f"{_EC2}:fleet/fleet-1", {}), *_launch("ec2:RunInstances", vpc)],
        "DescribeInstances": [("ec2:DescribeInstances", "*", {})],
        "DescribeSpotPriceHistory": [("ec2:DescribeSpotPriceHistory", "*", {})],
        "TerminateInstances": [("ec2:TerminateInstances", f"{_EC2}:instance/i-1", owned)],
    }


def _provider_calls() -> set[str]:
    """The EC2 API operations `AwsProvider` calls (methods on its client, and paginators)."""
    names = set()
    for node in ast.walk(ast.parse(inspect.getsource(provider_module))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if isinstance(target, ast.Attribute) and target.attr == "_ec2":
                if node.func.attr == "get_paginator":
                    first = node.args[0]
                    assert isinstance(first, ast.Constant)
                    names.add(str(first.value))
                else:
                    names.add(node.func.attr)
    mapping = boto3.client("ec2", region_name=REGION).meta.method_to_api_mapping
    return {mapping[n] for n in names}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            if key not in context:
                return False
            if operator in ("StringEquals", "ArnEquals"):
                ok = context[key] in _listed(expected)
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(context[key], e) for e in _listed(expected))
            else:
                raise AssertionError(f"the test does not know condition operator {operator}")
            if not ok:
                return False
    return True


def allowed(documents: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]) -> bool:
    """IAM's evaluation for one identity's policies (Allow unless no statement allows, Deny wins)."""
    verdict = False
    for document in documents:
        for statement in _listed(document["Statement"]):
            if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _listed(statement["Action"])):
                continue
            if not any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement.get("Resource", "*"))):
                continue
            if not _conditions_hold(statement.get("Condition", {}), context):
                continue
            if statement["Effect"] == "Deny":
                return False
            verdict = True
    return verdict


def _user_documents(user: str) -> list[dict[str, Any]]:
    iam = _iam()
    out = []
    for attached in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        out.append(version["PolicyVersion"]["Document"])
    for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
        out.append(iam.get_user_policy(UserName=user, PolicyName=name)["PolicyDocument"])
    return out


def test_every_ec2_call_of_the_cluster_controller_is_allowed(aws: dict[str, Any]) -> None:
    result = onboard(EKS)
    documents = _user_documents("kubewise-prod")
    required = _required(aws["vpc"])
    assert _provider_calls() == set(required), "AwsProvider calls an EC2 API this test has no resources for"
    for api, needs in required.items():
        for action, resource, context in needs:
            assert allowed(documents, action, resource, context), f"{api}: {action} on {resource} {context}"
    pass_node_role = {"iam:PassedToService": "ec2.amazonaws.com"}
    assert allowed(documents, "iam:PassRole", result.node_role_arn, pass_node_role)


def test_the_policies_do_not_reach_outside_the_cluster(aws: dict[str, Any]) -> None:
    onboard(EKS)
    documents = _user_documents("kubewise-prod")
    other = {"ec2:ResourceTag/kubernetes.io/cluster/staging": "owned"}
    assert not allowed(documents, "ec2:TerminateInstances", f"{_EC2}:instance/i-2", other)
    assert not allowed(
        documents, "ec2:RunInstances", f"{_EC2}:subnet/subnet-2", {"ec2:Vpc": VPC_ARN + "vpc-other"}
    )
    untagged = {"aws:RequestTag/kubernetes.io/cluster/staging": "owned"}
    assert not allowed(documents, "ec2:RunInstances", f"{_EC2}:instance/i-2", untagged)
    admin = f"arn:aws:iam::{ACCOUNT}:role/admin"
    assert not allowed(documents, "iam:PassRole", admin, {"iam:PassedToService": "ec2.amazonaws.com"})
    attach_admin = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert not allowed(
        documents, "iam:AttachRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/kubewise-x", attach_admin
    )
    assert not allowed(documents, "iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/kubewise-x", {})
    assert not allowed(
        documents, "eks:UpdateNodegroupConfig", f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/dev/a/1", {}
    )
