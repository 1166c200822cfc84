"""`catalog.allocatable`: worked examples of the EKS, GKE and AKS reservation formulas."""

from __future__ import annotations

from fractions import Fraction
from math import ceil

import pytest

from kubewise.catalog.allocatable import (
    GPU_AMD,
    aks_cpu_millicores,
    aks_reservation,
    eks_reservation,
    gke_reservation,
    gpu_resource_name,
    node_allocatable,
    node_capacity,
    reservation,
    tiered_cpu_millicores,
)
from kubewise.catalog.loading import load_region
from kubewise.catalog.types import InstanceType
from kubewise.model import GPU_NVIDIA

MIB = 1024**2
GIB = 1024**3


def vm(
    provider: str,
    vcpu: int,
    memory_mib: int,
    *,
    max_pods: int = 110,
    gpu: int = 0,
    gpu_model: str | None = None,
    family: str = "f",
) -> InstanceType:
    return InstanceType(
        provider, "r", "t", family, vcpu, memory_mib, "amd64", gpu, gpu_model, 1.0, None, max_pods
    )


# ---- AWS / EKS


def test_m5_large_worked_example() -> None:
    m5 = load_region("aws", "us-east-1").get("m5.large")
    assert m5 is not None and m5.max_pods == 29
    held = eks_reservation(m5)
    assert held.cpu_millicores == 70  # 60 + 10
    assert held.memory_bytes == 574 * MIB  # 11 * 29 + 255
    assert held.eviction_memory_bytes == 100 * MIB
    alloc = node_allocatable(m5)
    assert alloc["cpu"] == 2000 - 70
    assert alloc["memory"] == (8192 - 574 - 100) * MIB
    assert alloc["pods"] == 29
    assert GPU_NVIDIA not in alloc


def test_m5_24xlarge_worked_example() -> None:
    big = load_region("aws", "us-east-1").get("m5.24xlarge")
    assert big is not None and (big.vcpu, big.max_pods) == (96, 737)
    held = eks_reservation(big)
    assert held.cpu_millicores == 60 + 10 + 10 + 230  # 0.25 % of 92 cores = 230m
    assert held.memory_bytes == (11 * 737 + 255) * MIB


@pytest.mark.parametrize(
    ("vcpu", "millicores"),
    [(1, 60), (2, 70), (3, 75), (4, 80), (5, 82), (6, 85), (8, 90), (48, 190), (192, 550)],
)
def test_tiered_cpu(vcpu: int, millicores: int) -> None:
    assert tiered_cpu_millicores(vcpu) == millicores  # rounded down to whole millicores, like the EKS AMI


# ---- GCP / GKE


def test_gke_small_machine_reserves_255_mib() -> None:
    f1 = load_region("gcp", "us-central1").get("f1-micro")
    assert f1 is not None and f1.memory_mib < 1024
    held = gke_reservation(f1)
    assert (held.cpu_millicores, held.memory_bytes) == (60, 255 * MIB)
    assert node_allocatable(f1)["memory"] == (f1.memory_mib - 255 - 100) * MIB


def test_gke_e2_standard_4() -> None:
    e2 = load_region("gcp", "us-central1").get("e2-standard-4")
    assert e2 is not None and (e2.vcpu, e2.memory_mib) == (4, 16384)
    held = gke_reservation(e2)
    assert held.cpu_millicores == 80
    assert held.memory_bytes == ceil(
        Fraction(4 * GIB) * Fraction(25, 100)
        + Fraction(4 * GIB) * Fraction(20, 100)
        + Fraction(8 * GIB) * Fraction(10, 100)
    )  # 2662.4 MiB, rounded up
    assert node_allocatable(e2)["cpu"] == 3920


def test_gke_150_gib_uses_every_tier() -> None:
    held = gke_reservation(vm("gcp", 32, 150 * 1024))
    expected = Fraction(GIB) * (Fraction(4 * 25 + 4 * 20 + 8 * 10 + 112 * 6 + 22 * 2, 100))  # 9.76 GiB
    assert held.memory_bytes == ceil(expected)
    assert held.total_memory_bytes == ceil(expected) + 100 * MIB


# ---- Azure / AKS


@pytest.mark.parametrize(
    ("vcpu", "millicores"),
    [
        (1, 60),
        (2, 100),
        (3, 120),
        (4, 140),
        (8, 180),
        (12, 220),
        (16, 260),
        (32, 420),
        (48, 580),
        (64, 740),
        (96, 1060),
        (128, 1380),
    ],
)
def test_aks_cpu_table(vcpu: int, millicores: int) -> None:
    assert aks_cpu_millicores(vcpu) == millicores


def test_aks_memory_pods_formula() -> None:
    held = aks_reservation(vm("azure", 2, 8 * 1024, max_pods=30))
    assert held.memory_bytes == 650 * MIB  # 20 * 30 + 50
    alloc = node_allocatable(vm("azure", 2, 8 * 1024, max_pods=30))
    assert alloc["memory"] == (8192 - 650 - 100) * MIB
    assert alloc["cpu"] == 2000 - 100


def test_aks_memory_capped_at_a_quarter() -> None:
    held = aks_reservation(vm("azure", 2, 4 * 1024, max_pods=70))
    assert held.memory_bytes == 1024 * MIB  # 25 % of 4 GiB < 20 * 70 + 50 = 1450


def test_aks_real_type_default_pods() -> None:
    d16 = load_region("azure", "eastus").get("Standard_D16s_v5")
    assert d16 is not None and (d16.vcpu, d16.memory_mib, d16.max_pods) == (16, 65536, 110)
    held = reservation(d16)
    assert (held.cpu_millicores, held.memory_bytes) == (260, 2250 * MIB)


# ---- common


def test_capacity_and_ephemeral_storage_assumption() -> None:
    t = vm("aws", 4, 16384, max_pods=58)
    cap, alloc = node_capacity(t), node_allocatable(t)
    assert cap == {"cpu": 4000, "memory": 16 * GIB, "pods": 58, "ephemeral-storage": 100 * GIB}
    assert alloc["ephemeral-storage"] == (100 - 1 - 10) * GIB  # EKS kube-reserved 1 GiB, 10 % eviction
    assert all(alloc[k] <= cap[k] for k in cap)
    for provider in ("gcp", "azure"):  # no kube-reserved ephemeral storage assumed there
        assert node_allocatable(vm(provider, 4, 16384))["ephemeral-storage"] == 90 * GIB


def test_unknown_provider_has_no_formula() -> None:
    with pytest.raises(ValueError, match="no reservation formula for provider 'oci'"):
        node_allocatable(vm("oci", 2, 4096))


def test_tiny_memory_never_goes_negative() -> None:
    assert node_allocatable(vm("aws", 1, 256, max_pods=110))["memory"] == 0


@pytest.mark.parametrize(
    ("provider", "region", "name", "resource", "count"),
    [
        ("aws", "us-east-1", "g4dn.xlarge", GPU_NVIDIA, 1),
        ("aws", "us-east-1", "p3.8xlarge", GPU_NVIDIA, 4),  # model unknown -> NVIDIA
        ("aws", "us-east-1", "g4ad.xlarge", GPU_AMD, 1),
        ("aws", "us-east-1", "dl1.24xlarge", "habana.ai/gaudi", 8),
        ("gcp", "us-central1", "a2-highgpu-1g", GPU_NVIDIA, 1),
        ("azure", "eastus", "Standard_NV4as_v4", GPU_AMD, 1),
        ("azure", "eastus", "Standard_NP10s", "xilinx.com/fpga", 1),
    ],
)
def test_accelerator_resource(provider: str, region: str, name: str, resource: str, count: int) -> None:
    t = load_region(provider, region).get(name)
    assert t is not None
    assert gpu_resource_name(t) == resource
    assert node_allocatable(t)[resource] == count
    others = {GPU_NVIDIA, GPU_AMD, "habana.ai/gaudi", "xilinx.com/fpga"} - {resource}
    assert not others & set(node_allocatable(t))


def test_amd_model_and_no_gpu() -> None:
    assert gpu_resource_name(vm("azure", 8, 1024, gpu=8, gpu_model="AMD Instinct MI300X")) == GPU_AMD
    assert gpu_resource_name(vm("aws", 8, 1024)) is None
