"""`onboard` / `offboard`: the AWS side of handing kubewise a cluster's cloud credentials (boto3).

Called by `kubewise.cli.onboard`. What the reference's EKS and kOps credential scripts do, idempotent:
an IAM user `kubewise-<cluster>` with one access key, or (cross-account) a role of that name that only
the platform's principal can assume with the external id; AmazonEC2ReadOnlyAccess, IAMReadOnlyAccess,
the account-wide `Kubewise{EKS,Kops}Policy` and the cluster-scoped inline policy on it; the spot
Lambda's role; on EKS the node role and its instance profile. A dry run reads everything and changes
nothing. Every AWS failure is an `OnboardingError` whose one line says what failed and what to do.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from kubewise.cloud.aws import onboarding_iam as steps
from kubewise.cloud.aws import onboarding_policies as docs
from kubewise.cloud.aws.onboarding_iam import Change, Changes

__all__ = [
    "Change",
    "OffboardResult",
    "OnboardRequest",
    "OnboardResult",
    "OnboardingError",
    "mapped_arns",
    "offboard",
    "onboard",
]

_CLUSTER_TAG = "kubewise.dev/cluster"  # on the shared Lambda role: one per cluster that uses it
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
_BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "UnrecognizedClientException",
}


class OnboardingError(RuntimeError):
    """One line: what failed and what to do."""


@dataclass(frozen=True, slots=True)
class OnboardRequest:
    provider: str  # eks | kops
    cluster_name: str
    region: str
    cross_account_role: bool = False
    trusted_principal: str | None = None  # the platform's IAM principal ARN (cross-account role)
    external_id: str | None = None  # generated when the role has none yet
    rotate_key: bool = False
    platform_key_id: str | None = None  # the access key id the platform holds now, if any

    def __post_init__(self) -> None:
        if self.provider not in ("eks", "kops"):
            raise OnboardingError(f"provider must be eks or kops, got {self.provider!r}")
        if not self.cluster_name or not self.region:
            raise OnboardingError("the cluster name and the region are required")


@dataclass(frozen=True, slots=True)
class OnboardResult:
    changes: list[Change]
    account_id: str
    vpc_id: str
    identity_arn: str  # the user's, or the cross-account role's
    node_role_arn: str
    access_key_id: str | None = None  # user mode
    secret_access_key: str | None = None  # only when a key was made by this run
    external_id: str | None = None  # role mode


@dataclass(frozen=True, slots=True)
class OffboardResult:
    changes: list[Change]
    user_arn: str  # what aws-auth may still map (whether or not the user existed)
    node_role_arn: str


def _clients(region: str, session: Any, endpoint_url: str | None) -> dict[str, Any]:
    session = session or boto3.Session()
    return {
        name: session.client(name, region_name=region, endpoint_url=endpoint_url)
        for name in ("iam", "sts", "ec2", "eks", "autoscaling")
    }


def _explain(exc: Exception, caller: str) -> OnboardingError:
    if isinstance(exc, NoCredentialsError):
        return OnboardingError(
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
            "(an identity allowed to manage IAM in the cluster's account)"
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", ""))
        operation = exc.operation_name
        if code in _DENIED:
            return OnboardingError(
                f"{caller or 'your AWS identity'} is not allowed to call {operation} ({code}): onboarding "
                "needs IAM, EC2 and EKS permissions in the cluster's account -- see docs/onboarding.md"
            )
        if code in _BAD_CREDENTIALS:
            return OnboardingError(
                f"AWS rejected the credentials ({code}): check AWS_PROFILE / the access key"
            )
        return OnboardingError(f"AWS {operation} failed: {code}: {message}")
    return OnboardingError(f"AWS call failed: {type(exc).__name__}: {exc}")


def _eks_vpc(c: dict[str, Any], name: str, region: str) -> str:
    try:
        cluster = c["eks"].describe_cluster(name=name)["cluster"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise OnboardingError(
                f"EKS cluster {name!r} not found in {region}: check --cluster-name and --region "
                "(`aws eks list-clusters --region REGION`)"
            ) from None
        raise
    vpc_config = cluster.get("resourcesVpcConfig", {})
    if vpc_config.get("vpcId"):
        return str(vpc_config["vpcId"])
    subnets = vpc_config.get("subnetIds", [])
    found = c["ec2"].describe_subnets(SubnetIds=subnets)["Subnets"] if subnets else []
    vpcs = {str(s["VpcId"]) for s in found}
    if len(vpcs) != 1:
        raise OnboardingError(f"cannot tell the VPC of EKS cluster {name!r} from its subnets")
    return vpcs.pop()


def _kops_vpc(c: dict[str, Any], name: str, region: str) -> str:
    vpcs: set[str] = set()
    alive = {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}
    for tag_filter in (
        {"Name": "tag:KubernetesCluster", "Values": [name]},
        {"Name": "tag-key", "Values": [f"kubernetes.io/cluster/{name}"]},
    ):
        for page in c["ec2"].get_paginator("describe_instances").paginate(Filters=[tag_filter, alive]):
            for reservation in page.get("Reservations", []):
                vpcs.update(i["VpcId"] for i in reservation["Instances"] if i.get("VpcId"))
    if not vpcs:
        raise OnboardingError(
            f"kOps cluster {name!r} not found in {region}: no EC2 instance is tagged "
            f"KubernetesCluster={name} or kubernetes.io/cluster/{name} -- check --cluster-name and --region"
        )
    if len(vpcs) > 1:
        raise OnboardingError(
            f"kOps cluster {name!r} has instances in several VPCs: {', '.join(sorted(vpcs))}"
        )
    return vpcs.pop()


def _auto_scaling_groups(c: dict[str, Any], name: str) -> tuple[str, ...]:
    arns: set[str] = set()
    for tag_filter in (
        {"Name": "tag-key", "Values": [f"kubernetes.io/cluster/{name}"]},
        {"Name": "tag:KubernetesCluster", "Values": [name]},
        {"Name": "tag:eks:cluster-name", "Values": [name]},
    ):
        pages = c["autoscaling"].get_paginator("describe_auto_scaling_groups").paginate(Filters=[tag_filter])
        for page in pages:
            arns.update(g["AutoScalingGroupARN"] for g in page.get("AutoScalingGroups", []))
    return tuple(sorted(arns))


def _node_role(request: OnboardRequest, account: str) -> tuple[str, str]:
    """(name, ARN) of the role kubewise's nodes run with: its own on EKS, kOps's `nodes.<cluster>`."""
    if request.provider == "eks":
        name = docs.node_role_name(request.cluster_name, account, request.region)
    else:
        name = f"nodes.{request.cluster_name}"
    return name, f"arn:aws:iam::{account}:role/{name}"


def _external_id(request: OnboardRequest, role: dict[str, Any] | None) -> str:
    if request.external_id:
        return request.external_id
    for statement in (role or {}).get("AssumeRolePolicyDocument", {}).get("Statement", []):
        found = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
        if isinstance(found, str):
            return found  # keep the one the platform already holds
    return secrets.token_hex(16)


def _identity(
    iam: Any, changes: Changes, request: OnboardRequest, name: str, tags: dict[str, str]
) -> str | None:
    """The user, or the cross-account role (returns its external id)."""
    if not request.cross_account_role:
        steps.ensure_user(iam, changes, name, tags)
        return None
    if not request.trusted_principal:
        raise OnboardingError(
            "--cross-account-role needs --trusted-principal (the platform's IAM principal ARN)"
        )
    role = steps.exists(lambda: iam.get_role(RoleName=name))
    external_id = _external_id(request, role["Role"] if role else None)
    steps.ensure_role(
        iam,
        changes,
        name,
        docs.role_trust_policy(request.trusted_principal, external_id),
        f"kubewise: manages the nodes of cluster {request.cluster_name}",
        tags,
    )
    return external_id


def _onboard(c: dict[str, Any], changes: Changes, request: OnboardRequest) -> OnboardResult:
    identity = c["sts"].get_caller_identity()
    account = str(identity["Account"])
    name = request.cluster_name
    vpc = (_eks_vpc if request.provider == "eks" else _kops_vpc)(c, name, request.region)
    node_role, node_role_arn = _node_role(request, account)
    scope = docs.ClusterScope(
        request.provider, name, request.region, account, vpc, node_role_arn, _auto_scaling_groups(c, name)
    )
    iam = c["iam"]
    policy_name = docs.managed_policy_name(request.provider)
    policy_arn = f"arn:aws:iam::{account}:policy/{policy_name}"
    steps.ensure_managed_policy(iam, changes, policy_arn, policy_name, docs.managed_policy(account))
    ident = docs.identity_name(name)
    tags = {"kubewise.dev/cluster-name": name, "kubewise.dev/region": request.region}
    external_id = _identity(iam, changes, request, ident, tags)
    kind = "role" if request.cross_account_role else "user"
    for arn in (docs.EC2_READ_ONLY, docs.IAM_READ_ONLY, policy_arn):
        steps.ensure_attached(iam, changes, kind, ident, arn)
    steps.ensure_inline(iam, changes, kind, ident, docs.INLINE_POLICY_NAME, docs.cluster_policy(scope))
    _lambda_role(iam, changes, request)
    if request.provider == "eks":
        steps.ensure_role(
            iam, changes, node_role, docs.ec2_trust_policy(), f"kubewise: nodes of {name}", tags
        )
        for arn in docs.NODE_ROLE_POLICIES:
            steps.ensure_attached(iam, changes, "role", node_role, arn)
        steps.ensure_instance_profile(iam, changes, node_role, node_role)
    key_id = secret = None
    if not request.cross_account_role:
        key_id, secret = steps.ensure_access_key(
            iam, changes, ident, request.platform_key_id, request.rotate_key
        )
    return OnboardResult(
        changes.items,
        account,
        vpc,
        f"arn:aws:iam::{account}:{kind}/{ident}",
        node_role_arn,
        key_id,
        secret,
        external_id,
    )


def _lambda_tag(request: OnboardRequest) -> str:
    return f"{_CLUSTER_TAG}/{request.region}/{request.cluster_name}"[:128]


def _lambda_role(iam: Any, changes: Changes, request: OnboardRequest) -> None:
    steps.ensure_role(
        iam,
        changes,
        docs.LAMBDA_ROLE_NAME,
        docs.lambda_trust_policy(),
        "kubewise: the Lambda function that handles spot interruption notices",
        {},
    )
    for arn in docs.LAMBDA_ROLE_POLICIES:
        steps.ensure_attached(iam, changes, "role", docs.LAMBDA_ROLE_NAME, arn)
    steps.ensure_role_tag(iam, changes, docs.LAMBDA_ROLE_NAME, _lambda_tag(request), request.provider)


def onboard(
    request: OnboardRequest, *, dry_run: bool = False, session: Any = None, endpoint_url: str | None = None
) -> OnboardResult:
    """Create or bring up to date everything the platform needs in AWS for this cluster; with
    `dry_run`, only report what would change. `session`: a boto3 Session (default: the environment's)."""
    c = _clients(request.region, session, endpoint_url)
    changes = Changes(dry_run)
    caller = ""
    try:
        caller = str(c["sts"].get_caller_identity().get("Arn", ""))
        return _onboard(c, changes, request)
    except (ClientError, BotoCoreError) as exc:
        raise _explain(exc, caller) from None


def mapped_arns(
    request: OnboardRequest, *, session: Any = None, endpoint_url: str | None = None
) -> tuple[str, str]:
    """(user ARN, node role ARN) that aws-auth maps for this cluster: what offboarding unmaps there."""
    c = _clients(request.region, session, endpoint_url)
    try:
        account = str(c["sts"].get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as exc:
        raise _explain(exc, "") from None
    return f"arn:aws:iam::{account}:user/{docs.identity_name(request.cluster_name)}", _node_role(
        request, account
    )[1]


def offboard(
    request: OnboardRequest, *, dry_run: bool = False, session: Any = None, endpoint_url: str | None = None
) -> OffboardResult:
    """Remove what `onboard` made for this cluster (the user and the role of its name, the node role and
    instance profile); the shared Lambda role and managed policy only once no other cluster uses them.
    The cluster itself need not exist any more."""
    c = _clients(request.region, session, endpoint_url)
    changes = Changes(dry_run)
    caller = ""
    try:
        identity = c["sts"].get_caller_identity()
        caller, account = str(identity.get("Arn", "")), str(identity["Account"])
        iam, ident = c["iam"], docs.identity_name(request.cluster_name)
        policy_name = docs.managed_policy_name(request.provider)
        policy_arn = f"arn:aws:iam::{account}:policy/{policy_name}"
        ours = sum(policy_arn in steps.attached(iam, kind, ident) for kind in ("user", "role"))
        steps.delete_user(iam, changes, ident)
        steps.delete_role(iam, changes, ident)
        node_role, node_role_arn = _node_role(request, account)
        if request.provider == "eks":  # on kOps the node role is kOps's own
            steps.delete_role(iam, changes, node_role)
            steps.delete_instance_profile(iam, changes, node_role)
        steps.remove_shared_role(
            iam, changes, docs.LAMBDA_ROLE_NAME, f"{_CLUSTER_TAG}/", _lambda_tag(request)
        )
        steps.remove_managed_policy_if_unused(iam, changes, policy_arn, policy_name, ours)
        return OffboardResult(changes.items, f"arn:aws:iam::{account}:user/{ident}", node_role_arn)
    except (ClientError, BotoCoreError) as exc:
        raise _explain(exc, caller) from None
