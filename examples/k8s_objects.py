"""Kubernetes object builders for the example cluster: EKS nodes and PDBs as the API server returns them.

Used only by `generate_example.py`. The numbers follow EKS: max pods from the ENI formula, allocatable =
capacity - kube-reserved - the 100Mi eviction threshold (memory) and capacity - kube-reserved (cpu).
"""

from __future__ import annotations

import random
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

JSON = dict[str, Any]

# instance type: (vCPU, memory MiB, max pods = ENIs * (IPv4 per ENI - 1) + 2)
INSTANCE_TYPES: dict[str, tuple[int, int, int]] = {
    "m5.large": (2, 8192, 29),
    "m5.xlarge": (4, 16384, 58),
    "m5.2xlarge": (8, 32768, 58),
    "c5.2xlarge": (8, 16384, 58),
    "r5.xlarge": (4, 32768, 58),
}
# zone: (zone id, first /24 of its /19 subnet)
ZONES: dict[str, tuple[str, int]] = {
    "us-east-1a": ("use1-az1", 0),
    "us-east-1b": ("use1-az2", 32),
    "us-east-1c": ("use1-az4", 64),
}
REGION = "us-east-1"
KUBELET_VERSION = "v1.30.4-eks-a737599"
SNAPSHOT_TIME = datetime(2026, 11, 24, 14, 30, 0, tzinfo=UTC)
ROOT_VOLUME_KI = 20959212  # the 20 GiB gp3 root volume of a managed node group, as the kubelet reports it
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet of Kubernetes generated name suffixes


def launch_template_id(group: str) -> str:
    return f"lt-0{zlib.crc32(group.encode()):08x}{zlib.crc32(group[::-1].encode()):08x}"


def kube_reserved_cpu_m(vcpu: int) -> int:
    """EKS kube-reserved cpu: 6 % of the first core, 1 % of the second, 0.5 % of cores 3-4, 0.25 % above."""
    ladder = [60.0, 10.0, 5.0, 5.0]
    return int(sum(ladder[i] if i < 4 else 2.5 for i in range(vcpu)))


def memory_capacity_ki(memory_mib: int) -> int:
    """What the kubelet reports: the nominal size minus what firmware and the kernel keep (~3 % + 200 MiB)."""
    nominal = memory_mib * 1024
    return nominal - nominal * 3 // 100 - 200 * 1024


def memory_allocatable_ki(memory_mib: int, max_pods: int) -> int:
    """capacity - kube-reserved (11 MiB per pod + 255 MiB) - eviction threshold (100 MiB)."""
    return memory_capacity_ki(memory_mib) - (11 * max_pods + 255) * 1024 - 100 * 1024


def ephemeral_allocatable_bytes(capacity_ki: int) -> int:
    """capacity - 1 GiB kube-reserved - the 10 % nodefs eviction threshold."""
    capacity = capacity_ki * 1024
    return capacity - 1024**3 - -(-capacity // 10)


class Ids:
    """Deterministic identifiers, suffixes and timestamps drawn from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choice(_SAFE) for _ in range(n))

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def time(self, days_ago_max: float, days_ago_min: float = 0.0) -> str:
        ago = self.rng.uniform(days_ago_min, days_ago_max)
        return stamp(SNAPSHOT_TIME - timedelta(days=ago))


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Ctr:
    """A container: requests in millicores / MiB; `sidecar` makes it a restartable init container."""

    name: str
    image: str
    cpu_m: int
    mem_mi: int
    mem_limit_mi: int | None = None
    cpu_limit_m: int | None = None
    port: int | None = None
    sidecar: bool = False

    def spec(self) -> JSON:
        requests: JSON = {}
        if self.cpu_m:
            requests["cpu"] = f"{self.cpu_m}m" if self.cpu_m % 1000 else str(self.cpu_m // 1000)
        if self.mem_mi:
            requests["memory"] = f"{self.mem_mi // 1024}Gi" if self.mem_mi % 1024 == 0 else f"{self.mem_mi}Mi"
        limits: JSON = {}
        if self.cpu_limit_m:
            limits["cpu"] = f"{self.cpu_limit_m}m"
        if self.mem_limit_mi:
            limits["memory"] = f"{self.mem_limit_mi}Mi"
        out: JSON = {"name": self.name, "image": self.image, "imagePullPolicy": "IfNotPresent"}
        if self.port:
            out["ports"] = [{"containerPort": self.port, "name": "http", "protocol": "TCP"}]
        out["resources"] = {"limits": limits, "requests": requests} if limits else {"requests": requests}
        if self.sidecar:
            out["restartPolicy"] = "Always"
        out["terminationMessagePath"] = "/dev/termination-log"
        out["terminationMessagePolicy"] = "File"
        return out


@dataclass
class Workload:
    """One controller (or bare pod) and the pod template its pods share."""

    namespace: str
    name: str
    kind: str  # Deployment | StatefulSet | DaemonSet | Job | Pod
    replicas: int
    containers: list[Ctr]
    init: list[Ctr] = field(default_factory=list)
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[JSON] = field(default_factory=list)
    anti_affinity: bool = False  # required, hostname, against its own app label
    zone_spread: bool = False  # maxSkew 1 across zones, DoNotSchedule
    priority_class: str = ""
    host_network: bool = False
    empty_dir: bool = False
    succeeded: int = 0  # Job only: pods that already completed
    selector: dict[str, str] | None = None  # the pods' identifying labels; default {"app": name}

    @property
    def app_labels(self) -> dict[str, str]:
        return dict(self.selector) if self.selector else {"app": self.name}

    def requests(self) -> tuple[int, int]:
        """Effective (scheduler) cpu millicores and memory MiB: containers + sidecars vs. the init peak."""
        sidecars = [c for c in self.init if c.sidecar]
        cpu = sum(c.cpu_m for c in self.containers + sidecars)
        mem = sum(c.mem_mi for c in self.containers + sidecars)
        running_cpu = running_mem = 0
        for c in self.init:
            if c.sidecar:
                running_cpu, running_mem = running_cpu + c.cpu_m, running_mem + c.mem_mi
            else:
                cpu, mem = max(cpu, running_cpu + c.cpu_m), max(mem, running_mem + c.mem_mi)
        return cpu, mem


def node_object(
    ids: Ids,
    name: str,
    itype: str,
    zone: str,
    group: str,
    capacity_type: str,
    labels: dict[str, str],
    taints: list[JSON],
) -> JSON:
    """A node of an EKS managed node group, as `kubectl get nodes -o json` shows it."""
    vcpu, mem_mib, max_pods = INSTANCE_TYPES[itype]
    instance_id = "i-0" + ids.hex(16)
    ip = name.removeprefix("ip-").removesuffix(".ec2.internal").replace("-", ".")
    all_labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": itype,
        "beta.kubernetes.io/os": "linux",
        "eks.amazonaws.com/capacityType": capacity_type,
        "eks.amazonaws.com/nodegroup": group,
        "eks.amazonaws.com/nodegroup-image": "ami-0c9a7e3b1f5d2e8a4",
        "eks.amazonaws.com/sourceLaunchTemplateId": launch_template_id(group),
        "eks.amazonaws.com/sourceLaunchTemplateVersion": "1",
        "failure-domain.beta.kubernetes.io/region": REGION,
        "failure-domain.beta.kubernetes.io/zone": zone,
        "k8s.io/cloud-provider-aws": "7f1b4c2d9e8a6b3c5d0e1f2a3b4c5d6e",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": itype,
        "topology.ebs.csi.aws.com/zone": zone,
        "topology.k8s.aws/zone-id": ZONES[zone][0],
        "topology.kubernetes.io/region": REGION,
        "topology.kubernetes.io/zone": zone,
        **labels,
    }
    created = ids.time(21, 1)
    capacity = {
        "cpu": str(vcpu),
        "ephemeral-storage": f"{ROOT_VOLUME_KI}Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{memory_capacity_ki(mem_mib)}Ki",
        "pods": str(max_pods),
    }
    allocatable = {
        "cpu": f"{vcpu * 1000 - kube_reserved_cpu_m(vcpu)}m",
        "ephemeral-storage": str(ephemeral_allocatable_bytes(ROOT_VOLUME_KI)),
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{memory_allocatable_ki(mem_mib, max_pods)}Ki",
        "pods": str(max_pods),
    }
    beat = stamp(SNAPSHOT_TIME - timedelta(seconds=ids.rng.randint(5, 50)))
    conditions = [
        {
            "type": t,
            "status": "False",
            "reason": r,
            "message": m,
            "lastHeartbeatTime": beat,
            "lastTransitionTime": created,
        }
        for t, r, m in (
            ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        )
    ]
    conditions.append(
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": beat,
            "lastTransitionTime": created,
        }
    )
    spec: JSON = {"providerID": f"aws:///{zone}/{instance_id}"}
    if taints:
        spec["taints"] = taints
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "annotations": {
                "alpha.kubernetes.io/provided-node-ip": ip,
                "csi.volume.kubernetes.io/nodeid": f'{{"ebs.csi.aws.com":"{instance_id}"}}',
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
            "creationTimestamp": created,
            "labels": all_labels,
            "name": name,
            "resourceVersion": str(ids.rng.randint(10_000_000, 99_999_999)),
            "uid": ids.uid(),
        },
        "spec": spec,
        "status": {
            "addresses": [
                {"address": ip, "type": "InternalIP"},
                {"address": name, "type": "InternalDNS"},
                {"address": name, "type": "Hostname"},
            ],
            "allocatable": allocatable,
            "capacity": capacity,
            "conditions": conditions,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": ids.uid(),
                "containerRuntimeVersion": "containerd://1.7.22",
                "kernelVersion": "6.1.112-122.189.amzn2023.x86_64",
                "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "machineID": "ec2" + ids.hex(29),
                "operatingSystem": "linux",
                "osImage": "Amazon Linux 2023.6.20241031",
                "systemUUID": "ec2"
                + ids.hex(5)
                + "-"
                + ids.hex(4)
                + "-"
                + ids.hex(4)
                + "-"
                + ids.hex(4)
                + "-"
                + ids.hex(12),
            },
        },
    }


def pdb_object(
    ids: Ids,
    namespace: str,
    name: str,
    selector: dict[str, str],
    expected: int,
    healthy: int,
    min_available: int | str | None = None,
    max_unavailable: int | None = None,
) -> JSON:
    """A policy/v1 PodDisruptionBudget with the status the disruption controller writes."""
    if max_unavailable is not None:
        desired = max(expected - max_unavailable, 0)
    elif isinstance(min_available, str):
        desired = -(-expected * int(min_available.rstrip("%")) // 100)
    else:
        desired = int(min_available or 0)
    allowed = max(healthy - desired, 0)
    spec: JSON = {"selector": {"matchLabels": selector}}
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    else:
        spec["minAvailable"] = min_available
    when = ids.time(20, 1)
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "creationTimestamp": when,
            "generation": 1,
            "name": name,
            "namespace": namespace,
            "resourceVersion": str(ids.rng.randint(10_000_000, 99_999_999)),
            "uid": ids.uid(),
        },
        "spec": spec,
        "status": {
            "conditions": [
                {
                    "lastTransitionTime": when,
                    "message": "",
                    "observedGeneration": 1,
                    "reason": "SufficientPods" if allowed else "InsufficientPods",
                    "status": "True" if allowed else "False",
                    "type": "DisruptionAllowed",
                }
            ],
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "disruptionsAllowed": allowed,
            "expectedPods": expected,
            "observedGeneration": 1,
        },
    }
