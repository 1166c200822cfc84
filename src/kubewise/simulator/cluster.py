"""`SimCluster`: nodes, pods and a scheduler in memory, on the simulated cloud, acting out actions.

Used by `simulator.scenario` (`kubewise simulate`). The autoscaler's actions are carried out as the
controller would: add-nodes asks `SimulatedCloud` (nodes join once their instance runs), cordon marks
a node unschedulable, drain evicts its workload pods (their controllers recreate them, pending), and
delete removes the node (pods still on it are recreated pending; bare pods are lost). A node whose
replacement nodes cannot be started is left alone. Unlike the controller, a drain here does not wait
for the replacements to join (their pods wait pending: a pessimistic estimate of pending time). Pending pods
are bound by a first-fit scheduler that asks `scheduling.ClusterState.can_place` -- the one fit logic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from kubewise.autoscaler import Action, AddNodes, CordonNode, DeleteNode, DrainNode
from kubewise.catalog.types import RegionCatalog
from kubewise.cloud.provider import CapacityError, NodeRequest
from kubewise.cloud.simulated import SimulatedCloud
from kubewise.model import CPU, Node, OwnerKind, Pod, Snapshot, Taint
from kubewise.optimizer import NodeTemplate, PlannedNode, planned_node_object
from kubewise.scheduling import ClusterState

__all__ = ["SimCluster"]

INTERRUPTION_TAINT = "aws-node-termination-handler/spot-itn"
UNAVAILABLE_SECONDS = 1800.0  # the controller's capacity report's default lifetime on the platform


class SimCluster:
    def __init__(self, snapshot: Snapshot, catalog: RegionCatalog, cloud: SimulatedCloud) -> None:
        self.catalog, self.cloud = catalog, cloud
        # the starting nodes are the cloud's instances too (a node without an instance id gets one)
        self.nodes: dict[str, Node] = {n.name: self._with_instance(n) for n in snapshot.nodes}
        self.pods: dict[str, Pod] = {p.key: p for p in snapshot.active_pods}
        self.pdbs, self.namespace_labels = snapshot.pdbs, snapshot.namespace_labels
        self.joining: dict[str, str] = {}  # instance id -> zone, for nodes not in the cluster yet
        self.templates: dict[str, NodeTemplate] = {}  # instance id -> what its node will carry
        self.evictions = 0
        self.lost_pods = 0
        self.unavailable: dict[tuple[str, str], float] = {}  # offering -> when the cloud had none
        self._made = 0
        for node in self.nodes.values():
            cloud.adopt(
                node.provider_id.rsplit("/", 1)[-1], node.instance_type, node.capacity_type, node.zone
            )

    @staticmethod
    def _with_instance(node: Node) -> Node:
        if node.provider_id.rsplit("/", 1)[-1].startswith("i-"):
            return node
        return dataclasses.replace(node, provider_id=f"aws:///{node.zone}/i-{node.name}")

    def unavailable_at(self, now: float) -> frozenset[tuple[str, str]]:
        """Offerings found without capacity in the last `UNAVAILABLE_SECONDS` (as the platform keeps
        the controller's reports), so that plans go back to them afterwards."""
        return frozenset(o for o, at in self.unavailable.items() if now - at < UNAVAILABLE_SECONDS)

    def snapshot(self) -> Snapshot:
        return Snapshot(
            tuple(self.nodes.values()), tuple(self.pods.values()), self.pdbs, self.namespace_labels
        )

    # --- time ------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Instances that started join as nodes; reclaimed ones leave; pending pods get scheduled."""
        self.cloud.tick()
        for iid in list(self.joining):
            (inst,) = self.cloud.describe([iid])
            if inst.state == "running":
                del self.joining[iid]
                self._join(
                    inst.instance_id, inst.instance_type, inst.capacity_type, inst.zone, self.templates[iid]
                )
        for name, node in list(self.nodes.items()):
            iid = node.provider_id.rsplit("/", 1)[-1]
            if iid in self.cloud.notices and not any(t.key == INTERRUPTION_TAINT for t in node.taints):
                self.nodes[name] = dataclasses.replace(
                    node, taints=(*node.taints, Taint(INTERRUPTION_TAINT, "", "NoSchedule"))
                )
            gone = self.cloud.instances.get(iid)
            if gone is not None and gone.state == "terminated":
                self._remove_node(name)
        self.schedule()

    def _join(self, iid: str, type_name: str, capacity: str, zone: str, template: NodeTemplate) -> None:
        itype = self.catalog.get(type_name)
        assert itype is not None
        name = f"sim-{iid}"
        node = planned_node_object(PlannedNode(itype, capacity, zone, template), name)
        self.nodes[name] = dataclasses.replace(node, provider_id=f"aws:///{zone}/{iid}")
        for ds in {(p.namespace, p.owner_name): p for p in self.pods.values() if p.is_daemonset}.values():
            self._made += 1
            copy = dataclasses.replace(
                ds, name=f"{ds.owner_name}-{self._made}", node_name=name, node_affinity=()
            )
            self.pods[copy.key] = copy

    def schedule(self) -> None:
        state = ClusterState([n for n in self.nodes.values()], self.namespace_labels)
        for pod in self.pods.values():
            if pod.node_name in self.nodes:
                state.place(pod, pod.node_name)
        pending = sorted(
            (p for p in self.pods.values() if not p.node_name and not p.is_daemonset),
            key=lambda p: (-p.requests.get(CPU, 0), p.key),
        )
        for pod in pending:
            target = next((n for n in self.nodes if state.can_place(pod, n) is None), None)
            if target is not None:
                state.place(pod, target)
                self.pods[pod.key] = dataclasses.replace(pod, node_name=target, phase="Running")

    # --- workload --------------------------------------------------------------------------------
    def scale(self, namespace: str, owner: str, replicas: int) -> None:
        """Make the workload `owner` run `replicas` pods: new ones pending, the newest removed first."""
        mine = sorted(
            (p for p in self.pods.values() if p.namespace == namespace and p.owner_name == owner),
            key=lambda p: p.name,
        )
        if not mine:
            raise ValueError(f"no pods of {namespace}/{owner} to scale")
        for pod in mine[replicas:]:
            del self.pods[pod.key]
        for _ in range(replicas - len(mine)):
            self._made += 1
            new = dataclasses.replace(
                mine[0], name=f"{owner}-sim-{self._made}", node_name="", phase="Pending"
            )
            self.pods[new.key] = new

    def interrupt_spot(self, count: int, grace_seconds: float) -> list[str]:
        """The cloud announces the reclaim of `count` spot nodes (the oldest first)."""
        spot = [n for n in sorted(self.nodes) if self.nodes[n].capacity_type == "spot"][:count]
        for name in spot:
            self.cloud.interrupt(self.nodes[name].provider_id.rsplit("/", 1)[-1], grace_seconds)
        return spot

    # --- actions ---------------------------------------------------------------------------------
    def apply(self, actions: Iterable[Action], token: str) -> list[AddNodes]:
        """Carry out `actions`; returns the add-nodes whose nodes were started."""
        kept: set[str] = set()  # nodes whose replacements could not be started: they stay
        started: list[AddNodes] = []
        for i, action in enumerate(actions):
            if isinstance(action, AddNodes):
                if self._add(action, f"{token}-{i}"):
                    started.append(action)
                elif action.replaces:
                    kept.add(action.replaces)
            elif action.node in kept:
                continue
            elif isinstance(action, CordonNode) and action.node in self.nodes:
                self.nodes[action.node] = dataclasses.replace(self.nodes[action.node], unschedulable=True)
            elif isinstance(action, DrainNode):
                self._drain(action.node)
            elif isinstance(action, DeleteNode):
                self._remove_node(action.node, terminate=True)
        return started

    def _add(self, action: AddNodes, token: str) -> bool:
        request = NodeRequest(
            token,
            (action.instance_type, *action.alternatives),
            action.capacity_type,
            action.zone,
            action.count,
        )
        try:
            made = self.cloud.create_nodes(request)
        except CapacityError as exc:
            self.unavailable.update(dict.fromkeys(exc.offerings, self.cloud.clock()))
            return False
        template = NodeTemplate(action.template, action.labels, action.taints)
        for inst in made:
            self.joining[inst.instance_id] = inst.zone
            self.templates[inst.instance_id] = template
        return True

    def _drain(self, node: str) -> None:
        for pod in [
            p for p in self.pods.values() if p.node_name == node and not (p.is_daemonset or p.is_mirror)
        ]:
            self.evictions += 1
            self._displace(pod)

    def _displace(self, pod: Pod) -> None:
        if pod.owner_kind == OwnerKind.NONE:
            del self.pods[pod.key]  # nothing recreates a bare pod
            self.lost_pods += 1
        else:
            self.pods[pod.key] = dataclasses.replace(pod, node_name="", phase="Pending")

    def _remove_node(self, name: str, *, terminate: bool = False) -> None:
        node = self.nodes.pop(name, None)
        if node is None:
            return
        if terminate:
            self.cloud.terminate([node.provider_id.rsplit("/", 1)[-1]])
        for pod in [p for p in self.pods.values() if p.node_name == name]:
            if pod.is_daemonset or pod.is_mirror:
                del self.pods[pod.key]
            else:
                self._displace(pod)

    # --- figures ---------------------------------------------------------------------------------
    def hourly_cost(self) -> float:
        """The nodes' catalog prices (instances still starting are paid for too)."""
        total = 0.0
        for node in self.nodes.values():
            itype = self.catalog.get(node.instance_type)
            total += (itype.price(node.capacity_type) or 0.0) if itype else 0.0
        for iid in self.joining:
            inst = self.cloud.instances[iid]
            itype = self.catalog.get(inst.instance_type)
            total += (itype.price(inst.capacity_type) or 0.0) if itype else 0.0
        return total

    def pending(self) -> int:
        return sum(1 for p in self.pods.values() if not p.node_name and not p.is_daemonset)
