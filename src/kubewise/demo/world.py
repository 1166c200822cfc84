"""`DemoWorld`: what makes the emulated API a cluster -- the parts of Kubernetes kubewise does not own.

Each `step` plays, on the objects of a `KubeStore`:
- the kubelets: a cloud instance that runs joins as a node (with the labels and taints its request
  asked for) and gets its DaemonSets' pods; an instance that is gone takes its node with it;
- a termination handler: a spot interruption notice taints the node;
- pod garbage collection, and the workload controllers: pods of a ReplicaSet, StatefulSet or Job
  that were evicted or lost with their node are created again, pending (a bare pod is lost);
- the disruption controller (PodDisruptionBudget status) and the eviction API's budget check;
- the scheduler: pending pods are bound first-fit by `scheduling.ClusterState.can_place`, the one
  fit logic; a pod nothing takes is marked Unschedulable, as the kube-scheduler marks it.
The autoscaler, the agent and the controller run outside and see only the API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from kubewise.autoscaler.evictor import disruptions_left
from kubewise.catalog.types import RegionCatalog
from kubewise.cloud.provider import Instance, NodeRequest
from kubewise.cloud.simulated import SimulatedCloud
from kubewise.demo.kube_api import KubeStore, Obj
from kubewise.demo.kube_objects import new_pod, node_object
from kubewise.model import CPU, Node, Pod, Taint
from kubewise.model.kubectl_nodes import parse_node
from kubewise.model.kubectl_pods import parse_pod
from kubewise.model.loading import parse_namespace, parse_pdb
from kubewise.optimizer import NodeTemplate, PlannedNode, planned_node_object
from kubewise.scheduling import ClusterState, runs_daemonset_pod, unbind_daemonset_pod

__all__ = ["INTERRUPTION_TAINT", "DemoWorld", "LockedCloud"]

INTERRUPTION_TAINT = "aws-node-termination-handler/spot-itn"
Owner = tuple[str, str, str]  # namespace, kind, name
_RECREATED = ("ReplicaSet", "StatefulSet", "Job")


class LockedCloud:
    """A `SimulatedCloud` that the controller's thread and the world's may both use."""

    def __init__(self, cloud: SimulatedCloud) -> None:
        self.cloud, self.lock = cloud, threading.RLock()

    def create_nodes(self, request: NodeRequest) -> list[Instance]:
        with self.lock:
            return self.cloud.create_nodes(request)

    def terminate(self, instance_ids: list[str]) -> None:
        with self.lock:
            self.cloud.terminate(instance_ids)

    def describe(self, instance_ids: list[str]) -> list[Instance]:
        with self.lock:
            return self.cloud.describe(instance_ids)

    def spot_prices(self, zones: Sequence[str]) -> dict[str, float]:
        with self.lock:
            return self.cloud.spot_prices(zones)


def _owner(obj: Obj) -> tuple[str, str] | None:
    refs = obj["metadata"].get("ownerReferences") or []
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    return (str(ref["kind"]), str(ref["name"])) if ref else None


def _key(obj: Obj) -> tuple[str, str]:
    return str(obj["metadata"].get("namespace", "")), str(obj["metadata"]["name"])


def _instance_id(provider_id: str) -> str:
    return provider_id.rsplit("/", 1)[-1]


class DemoWorld:
    def __init__(
        self, store: KubeStore, cloud: LockedCloud, catalog: RegionCatalog, now: Callable[[], dt.datetime]
    ) -> None:
        self.store, self.cloud, self.catalog, self.now = store, cloud, catalog, now
        self.templates: dict[Owner, Obj] = {}  # one pod of each workload, to copy
        self.replicas: dict[Owner, int] = {}  # what each workload controller keeps running
        self.daemonsets: dict[tuple[str, str], Obj] = {}  # (namespace, name) -> one of its pods
        self.evictions = self.lost_pods = self._made = 0
        self._parsed: dict[tuple[str, str], tuple[str, Pod]] = {}  # key -> (resourceVersion, pod)
        self._born: dict[tuple[str, str], int] = {}  # pods the controllers made -> order (newest last)
        store.on_evict = self.evict

    # --- set-up ----------------------------------------------------------------------------------
    def load(self, objects: list[Obj]) -> None:
        """The starting cluster: its objects stored, its nodes' instances taken into the cloud."""
        with self.store.lock:
            for obj in objects:
                if obj.get("kind") not in ("Node", "Pod", "PodDisruptionBudget", "Namespace"):
                    continue
                obj = dict(obj)
                if obj["kind"] == "Pod":
                    phase = (obj.get("status") or {}).get("phase", "Pending")
                    if phase in ("Succeeded", "Failed"):
                        continue
                    obj["status"] = {"phase": phase}  # what the demo's kubelets report
                    owner = _owner(obj)
                    ns = obj["metadata"].get("namespace", "")
                    if owner and owner[0] == "DaemonSet":
                        self.daemonsets.setdefault((ns, owner[1]), obj)
                    elif owner and owner[0] in _RECREATED:
                        self.templates.setdefault((ns, *owner), obj)
                        self.replicas[(ns, *owner)] = self.replicas.get((ns, *owner), 0) + 1
                if obj["kind"] == "Node":
                    node = parse_node(obj)
                    with self.cloud.lock:
                        self.cloud.cloud.adopt(
                            _instance_id(node.provider_id), node.instance_type, node.capacity_type, node.zone
                        )
                self.store.put(obj)

    # --- what users of the demo do ---------------------------------------------------------------
    def scale(self, namespace: str, owner: str, replicas: int) -> None:
        """Scale workload `owner` (a Deployment's ReplicaSet, a StatefulSet) to `replicas` pods."""
        with self.store.lock:
            mine = [
                k
                for k in self.replicas
                if k[0] == namespace and (k[2] == owner or k[2].startswith(owner + "-"))
            ]
            if not mine:
                raise ValueError(f"no workload {namespace}/{owner} in the demo cluster")
            self.replicas[mine[0]] = replicas

    def interrupt_spot(self, count: int, grace_seconds: float) -> list[str]:
        """The cloud announces the reclaim of `count` spot nodes."""
        with self.store.lock, self.cloud.lock:
            spot = sorted(
                n["metadata"]["name"] for n in self.store.all("Node") if self._node(n).capacity_type == "spot"
            )
            for name in spot[:count]:
                node = self.store.get("Node", "", name)
                assert node is not None
                self.cloud.cloud.interrupt(_instance_id(node["spec"]["providerID"]), grace_seconds)
            return spot[:count]

    # --- one round of the cluster's own machinery ------------------------------------------------
    def step(self) -> None:
        with self.store.lock:
            self._kubelets()
            self._collect_garbage()
            self._controllers()
            self._schedule()
            self._disruption_budgets()  # after binding: what runs now is what the budgets count

    def _node(self, obj: Obj) -> Node:
        return parse_node(obj)

    def _pod(self, obj: Obj) -> Pod:
        version = obj["metadata"].get("resourceVersion", "")
        cached = self._parsed.get(_key(obj))
        if cached is None or cached[0] != version:
            cached = (version, parse_pod(obj))
            self._parsed[_key(obj)] = cached
        return cached[1]

    def _kubelets(self) -> None:
        with self.cloud.lock:
            self.cloud.cloud.tick()
            instances = dict(self.cloud.cloud.instances)
            notices = set(self.cloud.cloud.notices)
        nodes = {_instance_id(n["spec"]["providerID"]): n for n in self.store.all("Node")}
        for iid, inst in instances.items():
            node = nodes.get(iid)
            if node is None and inst.state == "running":
                self._join(inst)
            elif node is not None and inst.state == "terminated":
                self.store.delete("Node", "", node["metadata"]["name"])
            elif node is not None and iid in notices:
                taints = node["spec"].setdefault("taints", [])
                if not any(t["key"] == INTERRUPTION_TAINT for t in taints):
                    taints.append({"key": INTERRUPTION_TAINT, "value": "", "effect": "NoSchedule"})
                    self.store.put(node)

    def _join(self, inst: Instance) -> None:
        itype = self.catalog.get(inst.instance_type)
        assert itype is not None, inst.instance_type  # the cloud only starts types of its catalog
        taints = tuple(Taint(k, v, e) for k, v, e in inst.taints)
        template = NodeTemplate("", inst.labels, taints)
        name = f"ip-{inst.instance_id.removeprefix('i-')}.ec2.internal"
        planned = planned_node_object(PlannedNode(itype, inst.capacity_type, inst.zone, template), name)
        node = dataclasses.replace(planned, provider_id=inst.provider_id)
        self.store.put(node_object(node, self.now()))
        for (namespace, ds), template_pod in sorted(self.daemonsets.items()):
            if runs_daemonset_pod(unbind_daemonset_pod(self._pod(template_pod)), node):
                self._made += 1
                pod = new_pod(template_pod, f"{ds}-{self._made:05d}", self.now(), node_name=name)
                pod["metadata"]["namespace"] = namespace
                self.store.put(pod)

    def _collect_garbage(self) -> None:
        """Pods bound to a node that no longer exists go (their controllers make new ones)."""
        nodes = {n["metadata"]["name"] for n in self.store.all("Node")}
        for pod in self.store.all("Pod"):
            bound = (pod.get("spec") or {}).get("nodeName")
            if bound and bound not in nodes:
                self._remove_pod(pod)

    def _remove_pod(self, pod: Obj) -> None:
        self.store.delete("Pod", *_key(pod))
        self._parsed.pop(_key(pod), None)
        self._born.pop(_key(pod), None)
        owner = _owner(pod)
        if owner is None:
            self.lost_pods += 1  # nothing recreates a bare pod

    def _controllers(self) -> None:
        running: dict[Owner, list[Obj]] = {k: [] for k in self.replicas}
        for pod in self.store.all("Pod"):
            ref = _owner(pod)
            if ref is not None:
                key = (str(pod["metadata"].get("namespace", "")), *ref)
                if key in running:
                    running[key].append(pod)
        for workload, pods in running.items():
            want = self.replicas[workload]
            for _ in range(want - len(pods)):
                self._made += 1
                name = f"{workload[2]}-{self._made:05d}"
                self._born[(workload[0], name)] = self._made
                self.store.put(new_pod(self.templates[workload], name, self.now()))
            if len(pods) > want:  # scaled down: pending pods go first, then the newest
                pods.sort(key=lambda p: (bool(p["spec"].get("nodeName")), -self._born.get(_key(p), 0)))
                for pod in pods[: len(pods) - want]:
                    self._remove_pod(pod)

    def _disruption_budgets(self) -> None:
        pods = [self._pod(p) for p in self.store.all("Pod")]
        for obj in self.store.all("PodDisruptionBudget"):
            pdb = dataclasses.replace(parse_pdb(obj), disruptions_allowed=None)
            covered = [p for p in pods if pdb.covers(p)]
            status = {
                "currentHealthy": sum(1 for p in covered if p.phase == "Running" and p.node_name),
                "expectedPods": len(covered),
                "disruptionsAllowed": disruptions_left(pdb, pods),
                "observedGeneration": 1,
            }
            if obj.get("status") != status:
                obj["status"] = status
                self.store.put(obj)

    def evict(self, namespace: str, name: str) -> str | None:
        """The Eviction API: refused while a budget covering the pod allows no disruption."""
        with self.store.lock:
            obj = self.store.get("Pod", namespace, name)
            if obj is None:
                return None
            pod = self._pod(obj)
            budgets = [b for b in self.store.all("PodDisruptionBudget") if parse_pdb(b).covers(pod)]
            if any((b.get("status") or {}).get("disruptionsAllowed", 0) <= 0 for b in budgets):
                return "Cannot evict pod as it would violate the pod's disruption budget."
            for budget in budgets:
                budget["status"]["disruptionsAllowed"] -= 1
                self.store.put(budget)
            self.evictions += 1
            self._remove_pod(obj)
            return None

    def _schedule(self) -> None:
        namespaces = dict(parse_namespace(n) for n in self.store.all("Namespace"))
        nodes = sorted((self._node(n) for n in self.store.all("Node")), key=lambda n: n.name)
        state = ClusterState(nodes, namespaces)
        pending: list[tuple[Pod, Obj]] = []
        for obj in self.store.all("Pod"):
            pod = self._pod(obj)
            if pod.node_name in state:
                state.place(pod, pod.node_name)
            elif not pod.node_name:
                pending.append((pod, obj))
        pending.sort(key=lambda item: (-item[0].requests.get(CPU, 0), item[0].key))
        for pod, obj in pending:
            target = next((n.name for n in nodes if state.can_place(pod, n.name) is None), None)
            if target is not None:
                state.place(pod, target)
                obj["spec"]["nodeName"] = target
                obj["status"] = {
                    "phase": "Running",
                    "conditions": [{"type": "PodScheduled", "status": "True"}],
                }
                self.store.put(obj)
            elif not (obj.get("status") or {}).get("conditions"):
                obj["status"] = {
                    "phase": "Pending",
                    "conditions": [{
                        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                        "message": f"0/{len(nodes)} nodes are available",
                    }],
                }  # fmt: skip
                self.store.put(obj)

    # --- figures ---------------------------------------------------------------------------------
    def hourly_cost(self) -> float:
        """The running and starting instances at the catalog's prices."""
        with self.cloud.lock:
            return self.cloud.cloud.hourly_cost()

    def counts(self) -> dict[str, Any]:
        with self.store.lock:
            pods = [self._pod(p) for p in self.store.all("Pod")]
            nodes = [self._node(n) for n in self.store.all("Node")]
        capacity = Counter(n.capacity_type for n in nodes)
        return {
            "nodes": len(nodes),
            "spotNodes": capacity.get("spot", 0),
            "pods": len(pods),
            "pendingPods": sum(1 for p in pods if not p.node_name and not p.is_daemonset),
        }
