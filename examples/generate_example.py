"""Writes examples/eks-us-east-1.json (and its packaged copy in src/kubewise/examples/): a realistic,
over-provisioned EKS cluster as `kubectl get nodes,pods,poddisruptionbudgets -A -o json` prints it.

Run from anywhere: `python examples/generate_example.py` (seeded: the output is byte-for-byte the same
each run). The workloads are bound to nodes by a small kube-scheduler imitation (filters: taints,
nodeSelector, resources, hostname anti-affinity, zone spread; score: least allocated), so every bound
pod fits its node and the pods that fit nowhere stay Pending with the scheduler's message.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from cluster_spec import NODE_GROUPS, PDBS, workloads
from k8s_objects import (
    INSTANCE_TYPES,
    JSON,
    ZONES,
    Ids,
    Workload,
    kube_reserved_cpu_m,
    memory_allocatable_ki,
    node_object,
    pdb_object,
)
from pod_objects import Placement, pod_object

SEED = 20261124
OUTPUT = Path(__file__).with_name("eks-us-east-1.json")
# the copy packaged with kubewise for `kubewise savings --example` (kept identical; tests/cli checks it)
PACKAGED = Path(__file__).resolve().parent.parent / "src" / "kubewise" / "examples" / OUTPUT.name


class NodeState:
    """A node as the scheduler imitation tracks it: free resources and the pods' app labels."""

    def __init__(self, obj: JSON, itype: str) -> None:
        vcpu, mem_mib, max_pods = INSTANCE_TYPES[itype]
        self.obj = obj
        self.name: str = obj["metadata"]["name"]
        self.labels: dict[str, str] = obj["metadata"]["labels"]
        self.zone = self.labels["topology.kubernetes.io/zone"]
        self.taints: list[JSON] = obj["spec"].get("taints", [])
        self.ip: str = obj["status"]["addresses"][0]["address"]
        self.cpu = self.free_cpu = vcpu * 1000 - kube_reserved_cpu_m(vcpu)
        self.mem = self.free_mem = memory_allocatable_ki(mem_mib, max_pods) // 1024
        self.free_pods = max_pods
        self.apps: Counter[tuple[str, str]] = Counter()

    def take(self, cpu: int, mem: int, app: tuple[str, str]) -> None:
        self.free_cpu -= cpu
        self.free_mem -= mem
        self.free_pods -= 1
        self.apps[app] += 1


def tolerates(w: Workload, taint: JSON) -> bool:
    for t in w.tolerations:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t["key"] == taint["key"]):
            return True
        if t.get("key") == taint["key"] and t.get("value", "") == taint.get("value", ""):
            return True
    return False


def reject_reason(w: Workload, node: NodeState, cpu: int, mem: int) -> list[str]:
    """Why the scheduler would filter `node` out for a pod of `w` (zone spread is checked separately)."""
    untolerated = [t for t in node.taints if not tolerates(w, t)]
    if untolerated:
        return [f"node(s) had untolerated taint {{{untolerated[0]['key']}: {untolerated[0]['value']}}}"]
    if any(node.labels.get(k) != v for k, v in w.node_selector.items()):
        return ["node(s) didn't match Pod's node affinity/selector"]
    reasons = []
    if cpu > node.free_cpu:
        reasons.append("Insufficient cpu")
    if mem > node.free_mem:
        reasons.append("Insufficient memory")
    if node.free_pods < 1:
        reasons.append("Too many pods")
    if not reasons and w.anti_affinity and node.apps[(w.namespace, w.name)]:
        reasons.append("node(s) didn't match pod anti-affinity rules")
    return reasons


def schedule(rng: random.Random, w: Workload, nodes: list[NodeState]) -> tuple[NodeState | None, str]:
    """The node a pod of `w` lands on (least allocated wins), or None and the FailedScheduling message."""
    cpu, mem = w.requests()
    app = (w.namespace, w.name)
    tally: Counter[str] = Counter()
    feasible = []
    for node in nodes:
        reasons = reject_reason(w, node, cpu, mem)
        tally.update(reasons)
        if not reasons:
            feasible.append(node)
    if w.zone_spread and feasible:
        eligible = [n for n in nodes if not any(n.labels.get(k) != v for k, v in w.node_selector.items())]
        per_zone = {z: sum(n.apps[app] for n in eligible if n.zone == z) for z in {n.zone for n in eligible}}
        floor = min(per_zone.values())
        spread_ok = [n for n in feasible if per_zone[n.zone] + 1 - floor <= 1]
        tally["node(s) didn't match pod topology spread constraints"] += len(feasible) - len(spread_ok)
        feasible = spread_ok
    if not feasible:
        parts = ", ".join(f"{count} {reason}" for reason, count in sorted(tally.items()))
        total = len(nodes)
        return None, (
            f"0/{total} nodes are available: {parts}. preemption: 0/{total} nodes are available: "
            f"{total} Preemption is not helpful for scheduling."
        )

    def score(n: NodeState) -> float:
        return (n.free_cpu - cpu) / n.cpu + (n.free_mem - mem) / n.mem + rng.random() * 0.1

    best = max(feasible, key=score)
    best.take(cpu, mem, app)
    return best, ""


def build_nodes(ids: Ids) -> list[NodeState]:
    nodes: list[NodeState] = []
    used: set[str] = set()
    zones = list(ZONES)
    for g, (group, types, capacity_type, count, labels, taints) in enumerate(NODE_GROUPS):
        for i in range(count):
            zone = zones[(g + i) % len(zones)]
            itype = types[i % len(types)]
            name = ""
            while not name or name in used:
                third, fourth = ZONES[zone][1] + ids.rng.randint(0, 31), ids.rng.randint(4, 250)
                name = f"ip-10-0-{third}-{fourth}.ec2.internal"
            used.add(name)
            obj = node_object(ids, name, itype, zone, group, capacity_type, labels, taints)
            nodes.append(NodeState(obj, itype))
    return nodes


def pod_ip(ids: Ids, node: NodeState, host_network: bool) -> str:
    if host_network:
        return node.ip
    third = int(node.ip.split(".")[2])
    return f"10.0.{third - third % 32 + ids.rng.randint(0, 31)}.{ids.rng.randint(2, 253)}"


def owner_ref(ids: Ids, w: Workload, owner_name: str) -> JSON | None:
    kinds = {
        "Deployment": ("apps/v1", "ReplicaSet"),
        "StatefulSet": ("apps/v1", "StatefulSet"),
        "DaemonSet": ("apps/v1", "DaemonSet"),
        "Job": ("batch/v1", "Job"),
    }
    if w.kind not in kinds:
        return None
    api, kind = kinds[w.kind]
    return {
        "apiVersion": api,
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": kind,
        "name": owner_name,
        "uid": ids.uid(),
    }


def pod_identities(ids: Ids, w: Workload, nodes: list[NodeState]) -> list[tuple[str, dict[str, str], str]]:
    """(pod name, labels, owner name) per replica; for a DaemonSet one per node (node name last)."""
    labels = w.app_labels
    if w.kind == "Deployment":
        template_hash = ids.suffix(10)
        rs = f"{w.name}-{template_hash}"
        return [
            (f"{rs}-{ids.suffix()}", {**labels, "pod-template-hash": template_hash}, rs)
            for _ in range(w.replicas)
        ]
    if w.kind == "StatefulSet":
        revision = f"{w.name}-{ids.suffix(10)}"
        return [
            (
                f"{w.name}-{i}",
                {
                    **labels,
                    "apps.kubernetes.io/pod-index": str(i),
                    "controller-revision-hash": revision,
                    "statefulset.kubernetes.io/pod-name": f"{w.name}-{i}",
                },
                w.name,
            )
            for i in range(w.replicas)
        ]
    if w.kind == "DaemonSet":
        revision = ids.suffix(10)
        return [
            (
                f"{w.name}-{ids.suffix()}",
                {**labels, "controller-revision-hash": revision, "pod-template-generation": "1"},
                n.name,
            )
            for n in nodes
        ]
    if w.kind == "Job":
        uid = ids.uid()
        job_labels = {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": w.name,
            "controller-uid": uid,
            "job-name": w.name,
        }
        return [(f"{w.name}-{ids.suffix()}", {**labels, **job_labels}, w.name) for _ in range(w.replicas)]
    return [(w.name, dict(labels), "") for _ in range(w.replicas)]


def build_pods(ids: Ids, nodes: list[NodeState]) -> tuple[list[JSON], Counter[tuple[str, str]]]:
    pods: list[JSON] = []
    running: Counter[tuple[str, str]] = Counter()
    for w in workloads(ids.rng):
        for index, (name, labels, owner_name) in enumerate(pod_identities(ids, w, nodes)):
            owner = owner_ref(ids, w, owner_name if w.kind != "DaemonSet" else w.name)
            if w.kind == "DaemonSet":
                node: NodeState | None = nodes[index]
                node.take(*w.requests(), (w.namespace, w.name))
                message = ""
            elif index < w.succeeded:  # completed Job pods hold no resources
                node = ids.rng.choice([n for n in nodes if not any(not tolerates(w, t) for t in n.taints)])
                message = ""
            else:
                node, message = schedule(ids.rng, w, nodes)
            if node is None:
                where = Placement("Pending", message=message)
            else:
                phase = "Succeeded" if index < w.succeeded else "Running"
                where = Placement(phase, node.name, node.ip, pod_ip(ids, node, w.host_network))
                running[(w.namespace, w.name)] += phase == "Running"
            pods.append(pod_object(ids, w, name, labels, owner, where))
    return pods, running


def build() -> tuple[JSON, list[NodeState]]:
    ids = Ids(random.Random(SEED))
    nodes = build_nodes(ids)
    pods, running = build_pods(ids, nodes)
    pdbs = [
        pdb_object(ids, ns, name, sel, expected, running[(ns, app)], min_available=mn, max_unavailable=mx)
        for ns, name, app, sel, expected, mn, mx in PDBS
    ]
    items = (
        sorted((n.obj for n in nodes), key=lambda o: o["metadata"]["name"])
        + sorted(pods, key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))
        + sorted(pdbs, key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))
    )
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}, nodes


def summary(doc: JSON, nodes: list[NodeState]) -> str:
    pods = [o for o in doc["items"] if o["kind"] == "Pod"]
    phases = Counter(p["status"]["phase"] for p in pods)
    cpu_alloc, mem_alloc = sum(n.cpu for n in nodes), sum(n.mem for n in nodes)
    cpu_used, mem_used = (
        cpu_alloc - sum(n.free_cpu for n in nodes),
        mem_alloc - sum(n.free_mem for n in nodes),
    )
    return (
        f"{len(nodes)} nodes, {len(pods)} pods {dict(sorted(phases.items()))}; requested "
        f"cpu {cpu_used / 1000:.1f}/{cpu_alloc / 1000:.1f} vCPU ({cpu_used / cpu_alloc:.0%}), memory "
        f"{mem_used / 1024:.0f}/{mem_alloc / 1024:.0f} GiB ({mem_used / mem_alloc:.0%}) of allocatable"
    )


def dumps(value: object, depth: int = 0, width: int = 100) -> str:
    """JSON as kubectl prints it (keys sorted), indented by one space, short objects kept on one line."""
    flat = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if not isinstance(value, dict | list) or len(flat) + depth <= width or not value:
        return flat
    pad = " " * (depth + 1)
    if isinstance(value, dict):
        body = [f"{pad}{json.dumps(k)}: {dumps(v, depth + 1, width)}" for k, v in sorted(value.items())]
        return "{\n" + ",\n".join(body) + "\n" + " " * depth + "}"
    body = [pad + dumps(v, depth + 1, width) for v in value]
    return "[\n" + ",\n".join(body) + "\n" + " " * depth + "]"


def main() -> None:
    doc, nodes = build()
    text = dumps(doc) + "\n"
    for path in (OUTPUT, PACKAGED):
        path.write_text(text, encoding="utf-8")
    size = len(text.encode()) / 1e6
    print(f"wrote {OUTPUT.name} and its packaged copy ({size:.2f} MB): {summary(doc, nodes)}")


if __name__ == "__main__":
    main()
