"""Small constructors for pods, nodes and catalogs used across the test tree."""

from __future__ import annotations

from kubewise.catalog.types import InstanceType, RegionCatalog
from kubewise.model import (
    LabelSelector,
    Node,
    OwnerKind,
    Pod,
    PodAffinityTerm,
    Resources,
    TopologySpreadConstraint,
)

GIB = 1024**3


def pod(
    name: str,
    cpu_m: int = 500,
    mem_gib: float = 1.0,
    *,
    namespace: str = "default",
    app: str | None = None,
    gpu: int = 0,
    **fields: object,
) -> Pod:
    """A pod with `cpu_m` millicores and `mem_gib` GiB requested (plus pods: 1)."""
    req = {"cpu": cpu_m, "memory": int(mem_gib * GIB), "pods": 1}
    if gpu:
        req["nvidia.com/gpu"] = gpu
    labels = {"app": app} if app else {}
    fields.setdefault("labels", labels)
    fields.setdefault("owner_kind", OwnerKind.DEPLOYMENT if app else OwnerKind.NONE)
    fields.setdefault("owner_name", app or "")
    return Pod(namespace, name, Resources(req), **fields)  # type: ignore[arg-type]


def daemonset_pod(name: str, cpu_m: int = 100, mem_gib: float = 0.125) -> Pod:
    return pod(
        name,
        cpu_m,
        mem_gib,
        namespace="kube-system",
        owner_kind=OwnerKind.DAEMONSET,
        owner_name=name,
        labels={"app": name},
    )


def hostname_anti_affinity(app: str) -> tuple[PodAffinityTerm, ...]:
    return (PodAffinityTerm(LabelSelector((("app", app),)), "kubernetes.io/hostname"),)


def zone_spread(app: str, max_skew: int = 1) -> tuple[TopologySpreadConstraint, ...]:
    return (
        TopologySpreadConstraint(
            max_skew, "topology.kubernetes.io/zone", "DoNotSchedule", LabelSelector((("app", app),))
        ),
    )


def itype(
    name: str,
    vcpu: int,
    mem_gib: int,
    price: float,
    *,
    spot: float | None = None,
    arch: str = "amd64",
    gpu: int = 0,
    family: str | None = None,
    max_pods: int = 110,
) -> InstanceType:
    return InstanceType(
        "aws",
        "us-east-1",
        name,
        family or name.split(".")[0],
        vcpu,
        mem_gib * 1024,
        arch,
        gpu,
        "NVIDIA T4" if gpu else None,
        price,
        spot,
        max_pods,
    )


def catalog(*types: InstanceType) -> RegionCatalog:
    return RegionCatalog("aws", "us-east-1", tuple(types))


def small_catalog() -> RegionCatalog:
    """Linear prices like a real family, plus an arm family 20% cheaper and a GPU type."""
    return catalog(
        itype("m.large", 2, 8, 0.10, spot=0.04),
        itype("m.xlarge", 4, 16, 0.20, spot=0.08),
        itype("m.2xlarge", 8, 32, 0.40, spot=0.16),
        itype("m.4xlarge", 16, 64, 0.80, spot=0.32),
        itype("c.xlarge", 4, 8, 0.17, spot=0.07),
        itype("c.2xlarge", 8, 16, 0.34, spot=0.14),
        itype("mg.xlarge", 4, 16, 0.16, arch="arm64"),
        itype("g.2xlarge", 8, 32, 0.75, gpu=1, spot=0.3),
    )


def node(
    name: str,
    instance_type: str,
    cpu_m: int,
    mem_gib: float,
    *,
    zone: str = "us-east-1a",
    capacity_type: str = "on-demand",
    labels: dict[str, str] | None = None,
    **fields: object,
) -> Node:
    alloc = Resources({"cpu": cpu_m, "memory": int(mem_gib * GIB), "pods": 110})
    all_labels = {
        "node.kubernetes.io/instance-type": instance_type,
        "topology.kubernetes.io/zone": zone,
        "topology.kubernetes.io/region": "us-east-1",
        "kubernetes.io/hostname": name,
        "kubernetes.io/arch": "amd64",
        **(labels or {}),
    }
    return Node(
        name,
        alloc,
        alloc,
        all_labels,
        provider="aws",
        instance_type=instance_type,
        region="us-east-1",
        zone=zone,
        arch="amd64",
        os="linux",
        capacity_type=capacity_type,
        **fields,
    )  # type: ignore[arg-type]
