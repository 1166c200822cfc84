"""The IAM names and policy documents `kubewise onboard` creates: pure functions, no AWS calls.

Called by `kubewise.cloud.aws.onboarding` (which creates what these describe) and by the tests that
check every EC2 call of `kubewise.cloud.aws.provider.AwsProvider` is allowed. Two layers, as the
reference scripts have them:
- an account-wide customer-managed policy (`KubewiseEKSPolicy` / `KubewiseKopsPolicy`), shared by every
  onboarded cluster of the account: launching from the account's images, volumes, security groups and
  launch templates, key pairs, tags at launch, kubewise-named instance profiles / roles, the spot Lambda;
- an inline policy on the cluster's own user or role (`KubewiseRestrictedAccess`) holding every write
  that touches the cluster: instances only with its ownership tag, subnets only in its VPC, its Auto
  Scaling groups and EKS node groups, and iam:PassRole of its node role alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EC2_READ_ONLY",
    "IAM_READ_ONLY",
    "INLINE_POLICY_NAME",
    "LAMBDA_ROLE_NAME",
    "LAMBDA_ROLE_POLICIES",
    "NODE_ROLE_POLICIES",
    "ClusterScope",
    "cluster_policy",
    "ec2_trust_policy",
    "identity_name",
    "lambda_trust_policy",
    "managed_policy",
    "managed_policy_name",
    "node_role_name",
    "role_trust_policy",
]

VERSION = "2012-10-17"
_AWS = "arn:aws:iam::aws:policy"
EC2_READ_ONLY = f"{_AWS}/AmazonEC2ReadOnlyAccess"
IAM_READ_ONLY = f"{_AWS}/IAMReadOnlyAccess"
LAMBDA_ROLE_NAME = "KubewiseLambdaRoleForSpot"
LAMBDA_ROLE_POLICIES = (
    f"{_AWS}/CloudWatchLogsFullAccess",
    f"{_AWS}/service-role/AWSLambdaRole",
    EC2_READ_ONLY,
)
NODE_ROLE_POLICIES = (
    f"{_AWS}/AmazonEKSWorkerNodePolicy",
    f"{_AWS}/AmazonEC2ContainerRegistryReadOnly",
    f"{_AWS}/AmazonEKS_CNI_Policy",
)
INLINE_POLICY_NAME = "KubewiseRestrictedAccess"
_MAX_IAM_NAME = 64  # users and roles
_OWNED = ["owned", "shared"]


@dataclass(frozen=True, slots=True)
class ClusterScope:
    """What the cluster-scoped policy is written for."""

    provider: str  # eks | kops
    cluster_name: str
    region: str
    account_id: str
    vpc_id: str
    node_role_arn: str  # the role its nodes run with: what iam:PassRole is limited to
    auto_scaling_groups: tuple[str, ...] = ()  # their ARNs


def _short_hash(*parts: str, length: int = 7) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _bounded(name: str, *key: str) -> str:
    """`name`, or its head plus a hash when it is longer than IAM allows (so names stay unique)."""
    if len(name) <= _MAX_IAM_NAME:
        return name
    return f"{name[: _MAX_IAM_NAME - 9]}-{_short_hash(name, *key, length=8)}"


def identity_name(cluster_name: str) -> str:
    """The IAM user (or, with a cross-account role, the role) the platform acts as for this cluster."""
    return _bounded(f"kubewise-{cluster_name}")


def node_role_name(cluster_name: str, account_id: str, region: str) -> str:
    """EKS: the role (and instance profile) of nodes kubewise starts; the hash keeps clusters of one
    name in two regions apart, and is the same on every run (re-running finds it)."""
    suffix = f"-eks-{_short_hash(account_id, region, cluster_name)}"
    head = f"kubewise-{cluster_name}"[: _MAX_IAM_NAME - len(suffix)]
    return head + suffix


def managed_policy_name(provider: str) -> str:
    return {"eks": "KubewiseEKSPolicy", "kops": "KubewiseKopsPolicy"}[provider]


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


def _allow(
    sid: str, actions: Sequence[str], resources: Sequence[str] | str, **condition: Any
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": resources if isinstance(resources, str) else list(resources),
    }
    if condition:
        statement["Condition"] = condition
    return statement


def managed_policy(account_id: str) -> dict[str, Any]:
    """The account-wide policy: nothing in it can touch an existing instance or another cluster's
    groups; those writes are all in `cluster_policy`."""
    a = account_id
    launch = [
        f"arn:aws:ec2:*:{a}:network-interface/*",
        f"arn:aws:ec2:*:{a}:security-group/*",
        f"arn:aws:ec2:*:{a}:volume/*",
        f"arn:aws:ec2:*:{a}:key-pair/*",
        f"arn:aws:ec2:*:{a}:launch-template/*",
        f"arn:aws:ec2:*:{a}:spot-instances-request/*",
        f"arn:aws:ec2:*:{a}:fleet/*",
        "arn:aws:ec2:*::image/*",
    ]
    return _doc(
        _allow("LaunchFromAccountResources", ["ec2:RunInstances", "ec2:CreateFleet"], launch),
        _allow(
            "TagOnLaunch",
            ["ec2:CreateTags"],
            f"arn:aws:ec2:*:{a}:*/*",
            StringEquals={
                "ec2:CreateAction": [
                    "RunInstances",
                    "CreateFleet",
                    "CreateLaunchTemplate",
                    "CreateSecurityGroup",
                    "CreateKeyPair",
                    "ImportKeyPair",
                ]
            },
        ),
        _allow(
            "SecurityGroupsKeyPairsLaunchTemplates",
            [
                "ec2:CreateSecurityGroup",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:CreateKeyPair",
                "ec2:ImportKeyPair",
                "ec2:CreateLaunchTemplate",
                "ec2:CreateLaunchTemplateVersion",
            ],
            "*",
        ),
        _allow(
            "DeleteOnlyWhatKubewiseMade",
            [
                "ec2:DeleteSecurityGroup",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:DeleteKeyPair",
                "ec2:DeleteLaunchTemplate",
                "ec2:ModifyLaunchTemplate",
            ],
            "*",
            StringEquals={"aws:ResourceTag/kubewise.dev/managed": "true"},
        ),
        *_iam_and_lambda(a),
    )


def _iam_and_lambda(a: str) -> list[dict[str, Any]]:
    """Instance profiles and node roles of kubewise's own names; the spot Lambda and its events."""
    return [
        _allow(
            "InstanceProfiles",
            [
                "iam:CreateInstanceProfile",
                "iam:DeleteInstanceProfile",
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:TagInstanceProfile",
            ],
            f"arn:aws:iam::{a}:instance-profile/kubewise-*",
        ),
        _allow(
            "NodeRoles",
            ["iam:CreateRole", "iam:DeleteRole", "iam:TagRole", "iam:DetachRolePolicy"],
            f"arn:aws:iam::{a}:role/kubewise-*",
        ),
        # attaching any other policy to a role it can create would let the key grant itself anything
        _allow(
            "NodeRolePoliciesOnly",
            ["iam:AttachRolePolicy"],
            f"arn:aws:iam::{a}:role/kubewise-*",
            ArnEquals={"iam:PolicyARN": list(NODE_ROLE_POLICIES)},
        ),
        _allow(
            "ServiceLinkedRolesForSpotAndFleets",
            ["iam:CreateServiceLinkedRole"],
            "*",
            StringEquals={
                "iam:AWSServiceName": [
                    "spot.amazonaws.com",
                    "ec2fleet.amazonaws.com",
                    "autoscaling.amazonaws.com",
                ]
            },
        ),
        _allow(
            "PassTheSpotLambdaRole",
            ["iam:PassRole"],
            f"arn:aws:iam::{a}:role/{LAMBDA_ROLE_NAME}",
            StringEquals={"iam:PassedToService": "lambda.amazonaws.com"},
        ),
        _allow(
            "SpotInterruptionLambda",
            [
                "lambda:CreateFunction",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:GetFunction",
                "lambda:DeleteFunction",
                "lambda:AddPermission",
                "lambda:RemovePermission",
                "lambda:TagResource",
            ],
            f"arn:aws:lambda:*:{a}:function:kubewise-*",
        ),
        _allow(
            "SpotInterruptionEvents",
            [
                "events:PutRule",
                "events:PutTargets",
                "events:DescribeRule",
                "events:DeleteRule",
                "events:RemoveTargets",
            ],
            f"arn:aws:events:*:{a}:rule/kubewise-*",
        ),
    ]


def cluster_policy(scope: ClusterScope) -> dict[str, Any]:
    """The inline policy of the cluster's user or role: every write limited to this one cluster."""
    r, a, name = scope.region, scope.account_id, scope.cluster_name
    tag = f"kubernetes.io/cluster/{name}"
    statements = [
        _allow(
            "LaunchOnlyInstancesOwnedByTheCluster",
            ["ec2:RunInstances", "ec2:CreateFleet"],
            f"arn:aws:ec2:{r}:{a}:instance/*",
            StringEquals={f"aws:RequestTag/{tag}": "owned"},
        ),
        _allow(
            "LaunchOnlyInTheClusterVpc",
            ["ec2:RunInstances", "ec2:CreateFleet"],
            f"arn:aws:ec2:{r}:{a}:subnet/*",
            ArnEquals={"ec2:Vpc": f"arn:aws:ec2:{r}:{a}:vpc/{scope.vpc_id}"},
        ),
        _allow(
            "ManageOnlyTheClusterInstances",
            [
                "ec2:TerminateInstances",
                "ec2:StartInstances",
                "ec2:StopInstances",
                "ec2:CreateTags",
                "ec2:DeleteTags",
            ],
            f"arn:aws:ec2:{r}:{a}:instance/*",
            StringEquals={f"ec2:ResourceTag/{tag}": _OWNED},
        ),
        _allow(
            "PassOnlyTheNodeRole",
            ["iam:PassRole"],
            scope.node_role_arn,
            StringEquals={"iam:PassedToService": "ec2.amazonaws.com"},
        ),
    ]
    return _doc(*statements, *_groups(scope))


def _groups(scope: ClusterScope) -> list[dict[str, Any]]:
    """The cluster's Auto Scaling groups and (EKS) node groups."""
    r, a, name = scope.region, scope.account_id, scope.cluster_name
    tag = f"kubernetes.io/cluster/{name}"
    statements: list[dict[str, Any]] = []
    asg_actions = [
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "autoscaling:SuspendProcesses",
        "autoscaling:ResumeProcesses",
        "autoscaling:CreateOrUpdateTags",
    ]
    statements.append(
        _allow(
            "TheClusterAutoScalingGroupsByTag",
            asg_actions,
            f"arn:aws:autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/*",
            StringEquals={f"aws:ResourceTag/{tag}": _OWNED},
        )
    )
    if scope.auto_scaling_groups:  # kOps groups may carry only the KubernetesCluster tag
        statements.append(
            _allow("TheClusterAutoScalingGroups", asg_actions, sorted(scope.auto_scaling_groups))
        )
    if scope.provider == "eks":
        statements.append(
            _allow(
                "TheClusterNodeGroups",
                [
                    "eks:DescribeCluster",
                    "eks:ListNodegroups",
                    "eks:DescribeNodegroup",
                    "eks:UpdateNodegroupConfig",
                    "eks:TagResource",
                    "eks:UntagResource",
                ],
                [f"arn:aws:eks:{r}:{a}:cluster/{name}", f"arn:aws:eks:{r}:{a}:nodegroup/{name}/*"],
            )
        )
    return statements


def role_trust_policy(trusted_principal: str, external_id: str) -> dict[str, Any]:
    """Cross-account role: only `trusted_principal`, and only presenting `external_id` (which stops
    another customer of the same platform from having it assume this role: the confused deputy)."""
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": trusted_principal},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
        }
    )


def _service_trust(service: str) -> dict[str, Any]:
    return _doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def ec2_trust_policy() -> dict[str, Any]:
    return _service_trust("ec2.amazonaws.com")


def lambda_trust_policy() -> dict[str, Any]:
    return _service_trust("lambda.amazonaws.com")
