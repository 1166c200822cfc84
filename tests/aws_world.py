"""A moto AWS account holding an EKS cluster or a kOps cluster, for the onboarding tests.

Used by `tests/cloud/test_aws_onboarding.py` and `tests/cli/test_cli_onboard.py`. `aws_env` sets fake
credentials and moto's AWS managed policies (AmazonEC2ReadOnlyAccess, ...) before the mock starts.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account


def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # attachable AWS managed policies
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def _network(cidr: str) -> tuple[str, str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("/16", "/24"), AvailabilityZone="us-east-1a")
    return vpc, subnet["Subnet"]["SubnetId"]


def _asg(name: str, subnet: str, tags: dict[str, str]) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.create_launch_template(LaunchTemplateName=f"{name}-lt", LaunchTemplateData={"ImageId": image})
    asg = boto3.client("autoscaling", region_name=REGION)
    asg.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateName": f"{name}-lt"},
        MinSize=0,
        MaxSize=3,
        VPCZoneIdentifier=subnet,
        Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in tags.items()],
    )
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return str(group["AutoScalingGroupARN"])


def eks_cluster(name: str = "prod", cidr: str = "10.0.0.0/16") -> dict[str, Any]:
    """An EKS cluster with one managed node group and its Auto Scaling group."""
    vpc, subnet = _network(cidr)
    eks = boto3.client("eks", region_name=REGION)
    role = f"arn:aws:iam::{ACCOUNT}:role/eks-{name}"
    eks.create_cluster(name=name, roleArn=role, resourcesVpcConfig={"subnetIds": [subnet]})
    eks.create_nodegroup(clusterName=name, nodegroupName="general", subnets=[subnet], nodeRole=role)
    asg = _asg(
        f"eks-general-{name}", subnet, {f"kubernetes.io/cluster/{name}": "owned", "eks:cluster-name": name}
    )
    return {"vpc": vpc, "subnet": subnet, "asg": asg}


def kops_cluster(name: str = "k8s.example.com", cidr: str = "10.1.0.0/16") -> dict[str, Any]:
    """A kOps cluster: one running instance tagged KubernetesCluster, an instance group's ASG."""
    vpc, subnet = _network(cidr)
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "KubernetesCluster", "Value": name}]}
        ],
    )
    asg = _asg(f"nodes.{name}", subnet, {"KubernetesCluster": name})
    return {"vpc": vpc, "subnet": subnet, "asg": asg}
