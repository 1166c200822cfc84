"""Capacity and allocatable of a node that does not exist yet, from its instance type and provider.

Called by the optimizer (candidate nodes) and tests. For nodes that already exist, the kubectl dump's
`status.allocatable` is the truth; these formulas only predict what a new node would report.

allocatable = capacity - kube-reserved - system-reserved - hard-eviction threshold, per provider:

- **AWS (EKS AMI / nodeadm):** memory kube-reserved `11 * max_pods + 255` MiB; CPU kube-reserved 6 % of
  the first core, 1 % of the second, 0.5 % of cores 3-4, 0.25 % of each core above 4 (integer
  millicores, rounded down like the AMI); ephemeral-storage kube-reserved 1 GiB (the AMI's kubelet
  config sets `kubeReserved.ephemeral-storage: 1Gi`); eviction `memory.available<100Mi`.
- **GCP (GKE Standard):** memory reserved 255 MiB below 1 GiB, else 25 % of the first 4 GiB, 20 % of
  the next 4, 10 % of the next 8, 6 % of the next 112 and 2 % above 128 GiB (rounded up to the byte);
  CPU as on EKS; eviction 100 MiB.
- **Azure (AKS, Kubernetes >= 1.29):** memory kube-reserved `min(20 MiB * max_pods + 50 MiB, 25 % of
  memory)` (Microsoft's page says "MB"; AKS configures the kubelet in Mi); CPU from the AKS table
  (1 core 60m, 2: 100m, 4: 140m, 8: 180m, 16: 260m, 32: 420m, 64: 740m), linearly interpolated between
  listed sizes and extended past 64 cores with the 32-64 slope (10m per core); eviction 100 MiB.

Assumptions common to all providers (documented, not measured):
- ephemeral-storage: a 100 GiB root volume, of which the kubelet's default `nodefs.available<10%`
  hard-eviction threshold is held back, plus the provider's kube-reserved ephemeral storage (1 GiB on
  EKS, none assumed on GKE/AKS): 89 GiB allocatable on EKS, 90 GiB elsewhere.
- accelerators: `gpu` devices are advertised as `nvidia.com/gpu` when the model is NVIDIA or unknown,
  `amd.com/gpu` for AMD, and by a per-family override where the catalog has no model but the hardware is
  known not to be NVIDIA (AWS dl1 = Habana Gaudi, Azure NVv4 = AMD, Azure NP = Xilinx FPGA).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from kubewise.catalog.types import InstanceType
from kubewise.model import CPU, EPHEMERAL_STORAGE, GPU_NVIDIA, MEMORY, PODS, Resources

__all__ = [
    "EKS_EPHEMERAL_RESERVED_GIB",
    "EVICTION_MEMORY_MIB",
    "GPU_AMD",
    "NODEFS_EVICTION_PERCENT",
    "ROOT_VOLUME_GIB",
    "Reservation",
    "aks_cpu_millicores",
    "aks_reservation",
    "eks_reservation",
    "gke_reservation",
    "gpu_resource_name",
    "node_allocatable",
    "node_capacity",
    "reservation",
    "tiered_cpu_millicores",
]

MIB = 1024**2
GIB = 1024**3
GPU_AMD = "amd.com/gpu"
EVICTION_MEMORY_MIB = 100  # kubelet default hard eviction `memory.available<100Mi` (EKS, GKE, AKS >= 1.29)
ROOT_VOLUME_GIB = 100  # assumed root volume of a new node
NODEFS_EVICTION_PERCENT = 10  # kubelet default `nodefs.available<10%`
EKS_EPHEMERAL_RESERVED_GIB = 1  # EKS AMI kubelet config: kubeReserved ephemeral-storage 1Gi

# (provider, family) -> device-plugin resource, for accelerators whose model the catalog leaves null.
_GPU_FAMILY_RESOURCE = {
    ("aws", "dl1"): "habana.ai/gaudi",
    ("azure", "standardNVSv4Family"): GPU_AMD,  # Radeon Instinct MI25 partitions
    ("azure", "standardNPSFamily"): "xilinx.com/fpga",  # Alveo U250; the real name carries the shell id
}

# Basis points (1/100 of a percent) per tier: (tier size, bp); the last tier's size None = "the rest".
_CPU_TIERS_BP: tuple[tuple[int | None, int], ...] = ((1000, 600), (1000, 100), (2000, 50), (None, 25))
_GKE_MEMORY_TIERS_BP: tuple[tuple[int | None, int], ...] = (
    (4 * GIB, 2500),
    (4 * GIB, 2000),
    (8 * GIB, 1000),
    (112 * GIB, 600),
    (None, 200),
)
_AKS_CPU_TABLE = ((1, 60), (2, 100), (4, 140), (8, 180), (16, 260), (32, 420), (64, 740))  # cores, millicores


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a provider holds back from a node: kube/system-reserved plus the memory eviction threshold."""

    cpu_millicores: int
    memory_bytes: int  # kube-reserved + system-reserved
    eviction_memory_bytes: int = EVICTION_MEMORY_MIB * MIB
    ephemeral_storage_bytes: int = 0  # kube-reserved + system-reserved (the 10 % eviction comes on top)

    @property
    def total_memory_bytes(self) -> int:
        return self.memory_bytes + self.eviction_memory_bytes


def _tiered_bp(total: int, tiers: tuple[tuple[int | None, int], ...]) -> tuple[int, int]:
    """Sum over tiers of (part of `total` in the tier) * bp, as an exact fraction (numerator, 10000)."""
    numerator, start = 0, 0
    for size, bp in tiers:
        end = total if size is None else min(total, start + size)
        if end <= start:
            break
        numerator += (end - start) * bp
        start = end
    return numerator, 10_000


def tiered_cpu_millicores(vcpu: int) -> int:
    """EKS/GKE CPU reservation: 6 % / 1 % / 0.5 % / 0.25 % tiers, rounded down to whole millicores."""
    numerator, denominator = _tiered_bp(vcpu * 1000, _CPU_TIERS_BP)
    return numerator // denominator


def eks_reservation(itype: InstanceType) -> Reservation:
    """EKS AMI: memory `11 * max_pods + 255` MiB, tiered CPU, 1 GiB ephemeral storage."""
    return Reservation(
        tiered_cpu_millicores(itype.vcpu),
        (11 * itype.max_pods + 255) * MIB,
        ephemeral_storage_bytes=EKS_EPHEMERAL_RESERVED_GIB * GIB,
    )


def gke_reservation(itype: InstanceType) -> Reservation:
    """GKE: 255 MiB below 1 GiB else tiered 25/20/10/6/2 % memory, tiered CPU."""
    memory = itype.memory_mib * MIB
    if memory < GIB:
        reserved = 255 * MIB
    else:
        numerator, denominator = _tiered_bp(memory, _GKE_MEMORY_TIERS_BP)
        reserved = -(-numerator // denominator)  # round up: never promise more than the node has
    return Reservation(tiered_cpu_millicores(itype.vcpu), reserved)


def aks_cpu_millicores(vcpu: int) -> int:
    """The AKS kube-reserved CPU table, interpolated linearly between sizes and extended past 64 cores."""
    table = _AKS_CPU_TABLE
    if vcpu <= table[0][0]:
        return table[0][1]
    for (lo_cores, lo_m), (hi_cores, hi_m) in pairwise(table):
        if vcpu <= hi_cores:
            return lo_m + (hi_m - lo_m) * (vcpu - lo_cores) // (hi_cores - lo_cores)
    (lo_cores, lo_m), (hi_cores, hi_m) = table[-2], table[-1]
    return hi_m + (hi_m - lo_m) * (vcpu - hi_cores) // (hi_cores - lo_cores)


def aks_reservation(itype: InstanceType) -> Reservation:
    """AKS >= 1.29: memory `min(20 MiB * max_pods + 50 MiB, 25 % of memory)`, CPU from the AKS table."""
    memory = itype.memory_mib * MIB
    reserved = min((20 * itype.max_pods + 50) * MIB, -(-memory // 4))
    return Reservation(aks_cpu_millicores(itype.vcpu), reserved)


_RESERVATIONS = {"aws": eks_reservation, "gcp": gke_reservation, "azure": aks_reservation}


def reservation(itype: InstanceType) -> Reservation:
    """The reservation of `itype.provider`; ValueError for a provider without a known formula."""
    try:
        formula = _RESERVATIONS[itype.provider]
    except KeyError:
        raise ValueError(
            f"no reservation formula for provider {itype.provider!r} (known: {', '.join(_RESERVATIONS)})"
        ) from None
    return formula(itype)


def gpu_resource_name(itype: InstanceType) -> str | None:
    """The extended resource `itype`'s accelerators are advertised as; None when it has none."""
    if itype.gpu <= 0:
        return None
    model = (itype.gpu_model or "").strip().upper()
    if model.startswith("AMD"):
        return GPU_AMD
    if not model:
        return _GPU_FAMILY_RESOURCE.get((itype.provider, itype.family), GPU_NVIDIA)
    return GPU_NVIDIA


def node_capacity(itype: InstanceType) -> Resources:
    """`status.capacity` of a new node of this type (root volume assumed `ROOT_VOLUME_GIB`)."""
    amounts = {
        CPU: itype.vcpu * 1000,
        MEMORY: itype.memory_mib * MIB,
        PODS: itype.max_pods,
        EPHEMERAL_STORAGE: ROOT_VOLUME_GIB * GIB,
    }
    gpu_name = gpu_resource_name(itype)
    if gpu_name is not None:
        amounts[gpu_name] = itype.gpu
    return Resources(amounts)


def node_allocatable(itype: InstanceType) -> Resources:
    """`status.allocatable` a new node of this type would report: capacity minus the provider's
    reservations and eviction thresholds (never negative)."""
    capacity = node_capacity(itype)
    held = reservation(itype)
    storage = capacity[EPHEMERAL_STORAGE]
    amounts = capacity.as_dict()
    amounts[CPU] = max(0, capacity[CPU] - held.cpu_millicores)
    amounts[MEMORY] = max(0, capacity[MEMORY] - held.total_memory_bytes)
    evicted = storage * NODEFS_EVICTION_PERCENT // 100
    amounts[EPHEMERAL_STORAGE] = max(0, storage - held.ephemeral_storage_bytes - evicted)
    return Resources(amounts)
