"""Synthetic cluster workloads: deterministic `Snapshot`s of a given shape, size and seed.

Called by `benchmarks` (plan quality and speed), by tests, and by simulator scenarios. Pods come in
Deployments (one shape per Deployment, labels `app=<name>`), unbound (the whole workload is to be
planned), plus one unbound representative pod per DaemonSet, from which a planner learns the per-node
overhead. With `with_nodes=True` the snapshot also has a current, over-provisioned node set
(m5.2xlarge on-demand across three zones) with the pods that fit bound to it, so it has a current cost.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from kubewise.model import (
    CAPACITY_ON_DEMAND,
    CPU,
    GPU_NVIDIA,
    MEMORY,
    PODS,
    LabelSelector,
    Node,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    OwnerKind,
    Pod,
    PodAffinityTerm,
    Resources,
    Snapshot,
    Toleration,
    TopologySpreadConstraint,
)

__all__ = ["KINDS", "ZONES", "DeploymentSpec", "deployments", "generate"]

MI = 1024**2
GI = 1024**3
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
HOSTNAME_KEY = "kubernetes.io/hostname"
ZONE_KEY = "topology.kubernetes.io/zone"
_NODE_TYPE = "m5.2xlarge"
_MAX_PROBES = 256  # nodes tried per pod when binding to the current node set
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # alphabet of Kubernetes generated name suffixes
_WORDS = (
    "api", "web", "cart", "search", "auth", "billing", "orders", "catalog", "pricing", "media", "events",
    "ledger", "inbox", "quotes", "stream", "ingest", "report", "feed", "profile", "geo", "tax", "ship",
)  # fmt: skip
# name, namespace, cpu millicores, memory bytes: small, as the usual node agents are
_DAEMONSETS = (
    ("kube-proxy", "kube-system", 100, 0),
    ("aws-node", "kube-system", 50, 0),
    ("log-agent", "logging", 100, 128 * MI),
)


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """One Deployment of a synthetic workload: all its replicas share this shape and these rules."""

    name: str
    namespace: str
    replicas: int
    cpu_m: int
    memory: int  # bytes
    gpu: int = 0
    anti_affinity: bool = False  # required, per hostname, against its own pods
    zone_spread: bool = False  # maxSkew 1 across zones, DoNotSchedule


def _replicas(rng: random.Random, total: int, lo: int, hi: int) -> list[int]:
    """Replica counts in [lo, hi] (log-uniform: many small Deployments, a few big) that sum to `total`."""
    out: list[int] = []
    left = total
    while left > 0:
        r = min(left, round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))
        out.append(max(r, 1))
        left -= out[-1]
    return out


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _cpu(value_m: float) -> int:
    """Round to what people write: multiples of 10m below 200m, of 50m below 2 cores, else of 250m."""
    step = 10 if value_m < 200 else 50 if value_m < 2000 else 250
    return max(step, round(value_m / step) * step)


def _mem(value: float) -> int:
    """Multiples of 64 MiB below 4 GiB, else of 1 GiB."""
    step = 64 * MI if value < 4 * GI else GI
    return max(step, round(value / step) * step)


class _Namer:
    """Deployment names `<word>-<tag>-<n>` spread over ten team namespaces."""

    def __init__(self, rng: random.Random, tag: str) -> None:
        self.rng, self.tag, self.count = rng, tag, 0

    def __call__(self) -> tuple[str, str]:
        self.count += 1
        return f"{self.rng.choice(_WORDS)}-{self.tag}-{self.count:04d}", f"team-{self.rng.randrange(10):02d}"


def _uniform(rng: random.Random, n: int) -> list[DeploymentSpec]:
    name = _Namer(rng, "uni")
    return [DeploymentSpec(*name(), r, 500, GI) for r in _replicas(rng, n, 5, 40)]


def _skewed(rng: random.Random, n: int, tag: str = "skw") -> list[DeploymentSpec]:
    """Heavy-tailed: mostly small services, some medium, cpu-heavy, memory-heavy and large ones."""
    name = _Namer(rng, tag)
    profiles: list[tuple[float, tuple[float, float], tuple[float, float], tuple[int, int]]] = [
        # weight, cpu millicores range, memory GiB per core range, replicas range
        (0.55, (100, 500), (1, 4), (2, 30)),  # small services
        (0.20, (500, 2000), (2, 4), (2, 12)),  # medium
        (0.10, (2000, 8000), (0.5, 1.5), (1, 8)),  # cpu-heavy
        (0.10, (500, 2000), (8, 16), (1, 6)),  # memory-heavy
        (0.05, (4000, 16000), (4, 8), (1, 4)),  # large
    ]
    weights = [p[0] for p in profiles]
    out: list[DeploymentSpec] = []
    left = n
    while left > 0:
        _, cpu_range, ratio, (lo, hi) = rng.choices(profiles, weights)[0]
        cpu = _cpu(_log_uniform(rng, *cpu_range))
        mem = _mem(cpu / 1000 * rng.uniform(*ratio) * GI)
        r = min(left, _replicas(rng, hi, lo, hi)[0])
        out.append(DeploymentSpec(*name(), r, cpu, mem))
        left -= r
    return out


def _gpu(rng: random.Random, n: int) -> list[DeploymentSpec]:
    """About 30 % GPU pods (1/2/4/8 GPUs with cpu and memory per GPU), the rest ordinary services."""
    name = _Namer(rng, "gpu")
    out: list[DeploymentSpec] = []
    gpu_pods = max(1, round(n * 0.3)) if n else 0
    for r in _replicas(rng, gpu_pods, 1, 12):
        gpus = rng.choices((1, 2, 4, 8), (0.5, 0.25, 0.15, 0.1))[0]
        cpu = _cpu(gpus * rng.choice((2000, 3000, 4000)))
        out.append(DeploymentSpec(*name(), r, cpu, _mem(gpus * rng.choice((8, 12, 16, 24)) * GI), gpus))
    return out + _skewed(rng, n - gpu_pods, "gpx")


def _many_small(rng: random.Random, n: int) -> list[DeploymentSpec]:
    name = _Namer(rng, "sml")
    return [
        DeploymentSpec(*name(), r, _cpu(rng.uniform(50, 200)), _mem(rng.uniform(64, 256) * MI))
        for r in _replicas(rng, n, 10, 100)
    ]


def _few_huge(rng: random.Random, n: int) -> list[DeploymentSpec]:
    name = _Namer(rng, "big")
    return [
        DeploymentSpec(*name(), r, _cpu(_log_uniform(rng, 8e3, 6e4)), _mem(_log_uniform(rng, 32, 400) * GI))
        for r in _replicas(rng, n, 1, 4)
    ]


def _anti_affinity(rng: random.Random, n: int) -> list[DeploymentSpec]:
    """Replicas spread one per node (required hostname anti-affinity); a third also spread over zones."""
    name = _Namer(rng, "aff")
    return [
        DeploymentSpec(
            *name(),
            r,
            _cpu(_log_uniform(rng, 100, 2000)),
            _mem(_log_uniform(rng, 256, 4096) * MI),
            anti_affinity=True,
            zone_spread=rng.random() < 1 / 3,
        )
        for r in _replicas(rng, n, 2, 12)
    ]


_REALISTIC_MIX: tuple[tuple[str, float], ...] = (
    ("skewed", 0.40),
    ("many-small", 0.25),
    ("anti-affinity", 0.15),
    ("uniform", 0.10),
    ("gpu", 0.06),
    ("few-huge", 0.04),
)


def _realistic(rng: random.Random, n: int) -> list[DeploymentSpec]:
    """The other kinds mixed the way a large shared cluster looks (shares of pods in `_REALISTIC_MIX`)."""
    out: list[DeploymentSpec] = []
    left = n
    for i, (kind, share) in enumerate(_REALISTIC_MIX):
        part = left if i == len(_REALISTIC_MIX) - 1 else min(left, round(n * share))
        out += _GENERATORS[kind](rng, part)
        left -= part
    return out


_GENERATORS: dict[str, Callable[[random.Random, int], list[DeploymentSpec]]] = {
    "uniform": _uniform,
    "skewed": _skewed,
    "gpu": _gpu,
    "many-small": _many_small,
    "few-huge": _few_huge,
    "anti-affinity": _anti_affinity,
    "realistic": _realistic,
}
KINDS: tuple[str, ...] = tuple(_GENERATORS)


def deployments(kind: str, n_pods: int, seed: int) -> list[DeploymentSpec]:
    """The Deployments of a workload of `kind` with exactly `n_pods` replicas in total."""
    if kind not in _GENERATORS:
        raise ValueError(f"unknown workload kind {kind!r}; choose one of {', '.join(KINDS)}")
    if n_pods < 0:
        raise ValueError(f"n_pods must be >= 0, got {n_pods}")
    return _GENERATORS[kind](random.Random(f"{kind}:{seed}"), n_pods)


def _suffix(i: int, width: int = 5) -> str:
    chars = []
    for _ in range(width):
        i, digit = divmod(i, len(_SAFE))
        chars.append(_SAFE[digit])
    return "".join(chars)


def _deployment_pods(spec: DeploymentSpec, rng: random.Random) -> list[Pod]:
    """The replicas of one Deployment: same requests, labels and rules (shared objects), pending."""
    template_hash = "".join(rng.choice(_SAFE) for _ in range(10))
    labels = {"app": spec.name, "pod-template-hash": template_hash}
    amounts = {CPU: spec.cpu_m, MEMORY: spec.memory, PODS: 1, GPU_NVIDIA: spec.gpu}
    requests = Resources(amounts)
    own = LabelSelector(match_labels=(("app", spec.name),))
    anti = (PodAffinityTerm(own, HOSTNAME_KEY),) if spec.anti_affinity else ()
    spread = (TopologySpreadConstraint(1, ZONE_KEY, "DoNotSchedule", own),) if spec.zone_spread else ()
    tolerations = (Toleration(GPU_NVIDIA, "Exists", effect="NoSchedule"),) if spec.gpu else ()
    seed = rng.randrange(len(_SAFE) ** 5)
    return [
        Pod(
            namespace=spec.namespace,
            name=f"{spec.name}-{template_hash}-{_suffix(seed + i)}",
            requests=requests,
            labels=labels,
            owner_kind=OwnerKind.DEPLOYMENT,
            owner_name=spec.name,
            tolerations=tolerations,
            pod_anti_affinity=anti,
            topology_spread=spread,
        )
        for i in range(spec.replicas)
    ]


def _daemonset_pod(ds: tuple[str, str, int, int], node: str = "", index: int = 0) -> Pod:
    """A DaemonSet pod: pinned to `node` by a matchFields term as the controller does it, or unbound."""
    name, namespace, cpu_m, memory = ds
    pin = (NodeSelectorTerm(match_fields=(NodeSelectorRequirement("metadata.name", "In", (node,)),)),)
    return Pod(
        namespace=namespace,
        name=f"{name}-{_suffix(index)}",
        requests=Resources({CPU: cpu_m, MEMORY: memory, PODS: 1}),
        labels={"app": name},
        node_name=node,
        phase="Running" if node else "Pending",
        owner_kind=OwnerKind.DAEMONSET,
        owner_name=name,
        node_affinity=pin if node else (),
        tolerations=(Toleration(operator="Exists"),),
        priority=2000001000,
    )


def _current_node(index: int) -> Node:
    """The index-th node of the current node set: an EKS m5.2xlarge (8 vCPU, 32 GiB, 58 pods)."""
    zone = ZONES[index % len(ZONES)]
    k = index // len(ZONES)
    name = f"ip-10-0-{64 * (index % len(ZONES)) + k // 250}-{k % 250 + 4}.ec2.internal"
    memory = 32768 * MI * 97 // 100 - 200 * MI  # what the kubelet reports for 32 GiB
    labels = {
        "node.kubernetes.io/instance-type": _NODE_TYPE,
        "topology.kubernetes.io/zone": zone,
        "topology.kubernetes.io/region": "us-east-1",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        HOSTNAME_KEY: name,
        "eks.amazonaws.com/capacityType": "ON_DEMAND",
        "eks.amazonaws.com/nodegroup": "general",
    }
    return Node(
        name=name,
        # EKS: kube-reserved 90m cpu and 11 MiB x 58 pods + 255 MiB memory, eviction threshold 100 MiB
        allocatable=Resources({CPU: 7910, MEMORY: memory - (11 * 58 + 255 + 100) * MI, PODS: 58}),
        capacity=Resources({CPU: 8000, MEMORY: memory, PODS: 58}),
        labels=labels,
        provider_id=f"aws:///{zone}/i-0{index:016x}",
        provider="aws",
        instance_type=_NODE_TYPE,
        region="us-east-1",
        zone=zone,
        arch="amd64",
        os="linux",
        capacity_type=CAPACITY_ON_DEMAND,
    )


def _bind_to_current_nodes(pods: list[Pod]) -> tuple[list[Node], list[Pod]]:
    """Size an m5.2xlarge node set to ~45 % of its cpu and bind pods round-robin (first node that fits,
    honouring hostname anti-affinity and zone spread). Pods that do not fit stay pending."""
    template = _current_node(0).allocatable - Resources(
        {CPU: sum(d[2] for d in _DAEMONSETS), MEMORY: sum(d[3] for d in _DAEMONSETS), PODS: len(_DAEMONSETS)}
    )
    bindable = [p for p in pods if p.requests.fits_in(template)]
    cpu, mem = sum(p.requests[CPU] for p in bindable), sum(p.requests[MEMORY] for p in bindable)
    widest = max(Counter(p.owner_name for p in bindable if p.pod_anti_affinity).values(), default=1)
    count = max(
        math.ceil(cpu / (0.45 * template[CPU])),
        math.ceil(mem / (0.6 * template[MEMORY])),
        math.ceil(len(bindable) / (0.6 * template[PODS])),
        widest,
        len(ZONES),
    )
    count += -count % len(ZONES)
    nodes = [_current_node(i) for i in range(count)]
    free = [[template[CPU], template[MEMORY], template[PODS]] for _ in nodes]
    on_node: list[set[str]] = [set() for _ in nodes]  # owners with anti-affinity pods on the node
    per_zone: dict[str, list[int]] = {}
    out: list[Pod] = []
    cursor = 0
    for pod in pods:
        chosen = -1
        if pod.requests.fits_in(template):
            need = (pod.requests[CPU], pod.requests[MEMORY], 1)
            zones = per_zone.setdefault(pod.owner_name, [0] * len(ZONES))
            for step in range(min(count, _MAX_PROBES)):
                j = (cursor + step) % count
                if any(n > f for n, f in zip(need, free[j], strict=True)):
                    continue
                if pod.pod_anti_affinity and pod.owner_name in on_node[j]:
                    continue
                z = j % len(ZONES)
                if pod.topology_spread and zones[z] + 1 - min(zones) > 1:
                    continue
                chosen = j
                break
        if chosen < 0:
            out.append(pod)
            continue
        for r in range(3):
            free[chosen][r] -= need[r]
        on_node[chosen].add(pod.owner_name)
        zones[chosen % len(ZONES)] += 1
        cursor = chosen + 1
        out.append(dataclasses.replace(pod, node_name=nodes[chosen].name, phase="Running"))
    return nodes, out


def generate(kind: str, n_pods: int, seed: int, *, with_nodes: bool = False) -> Snapshot:
    """A snapshot with `n_pods` Deployment pods of `kind` (see `KINDS`), reproducible from `seed`.

    Without nodes every pod is pending and there is one unbound pod per DaemonSet. `with_nodes=True`
    adds a current node set of on-demand m5.2xlarge across `ZONES`, sized so that about 45 % of its
    cpu is requested, with the pods that fit bound to it and the DaemonSet pods on every node.
    """
    specs = deployments(kind, n_pods, seed)
    rng = random.Random(f"pods:{kind}:{seed}")
    pods = [pod for spec in specs for pod in _deployment_pods(spec, rng)]
    if not with_nodes:
        return Snapshot(nodes=(), pods=(*pods, *(_daemonset_pod(ds) for ds in _DAEMONSETS)))
    nodes, bound = _bind_to_current_nodes(pods)
    daemonsets = [_daemonset_pod(ds, node.name, i) for i, node in enumerate(nodes) for ds in _DAEMONSETS]
    return Snapshot(nodes=tuple(nodes), pods=(*bound, *daemonsets))
