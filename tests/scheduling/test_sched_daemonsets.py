"""`scheduling.daemonsets`: which DaemonSet pods a node must carry, as the DaemonSet controller decides."""

from __future__ import annotations

from typing import Any

from sched_helpers import mknode, mkpod

from kubewise.model import (
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Resources,
    Taint,
    Toleration,
    load_snapshot_from_objects,
)
from kubewise.scheduling import (
    UNSCHEDULABLE_TAINT,
    daemonset_pods_for,
    daemonset_requests,
    runs_daemonset_pod,
    static_fit,
    unbind_daemonset_pod,
)

PIN = NodeSelectorTerm(match_fields=(NodeSelectorRequirement("metadata.name", "In", ("node-7",)),))
GPU_TERM = NodeSelectorTerm((NodeSelectorRequirement("gpu", "Exists"),))


def controller_made_pod() -> dict[str, Any]:
    """A DaemonSet pod as the controller writes it (pinned to its node, default tolerations added)."""
    exists = "Exists"
    return {
        "kind": "Pod",
        "metadata": {
            "name": "fluent-bit-x7k2p",
            "namespace": "logging",
            "labels": {"app": "fluent-bit"},
            "ownerReferences": [{"kind": "DaemonSet", "name": "fluent-bit", "controller": True}],
        },
        "spec": {
            "nodeName": "ip-10-0-1-5.ec2.internal",
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchFields": [
                                    {
                                        "key": "metadata.name",
                                        "operator": "In",
                                        "values": ["ip-10-0-1-5.ec2.internal"],
                                    }
                                ]
                            }
                        ]
                    }
                }
            },
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": exists, "effect": "NoExecute"},
                {"key": "node.kubernetes.io/unreachable", "operator": exists, "effect": "NoExecute"},
                {"key": "node.kubernetes.io/disk-pressure", "operator": exists, "effect": "NoSchedule"},
                {"key": "node.kubernetes.io/memory-pressure", "operator": exists, "effect": "NoSchedule"},
                {"key": "node.kubernetes.io/pid-pressure", "operator": exists, "effect": "NoSchedule"},
                {"key": "node.kubernetes.io/unschedulable", "operator": exists, "effect": "NoSchedule"},
            ],
            "containers": [{"name": "fb", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
        },
        "status": {"phase": "Running"},
    }


def test_a_loaded_daemonset_pod_is_pinned_until_unbound() -> None:
    (pod,) = load_snapshot_from_objects([controller_made_pod()]).pods
    new_node = mknode("kubewise-new-1", labels={"kubernetes.io/os": "linux"})
    assert not runs_daemonset_pod(pod, new_node)  # matchFields metadata.name names another node
    template = unbind_daemonset_pod(pod)
    assert (template.node_name, template.node_affinity) == ("", ())
    assert (template.requests, template.labels, template.tolerations) == (
        pod.requests,
        pod.labels,
        pod.tolerations,
    )
    assert runs_daemonset_pod(template, new_node)
    assert not runs_daemonset_pod(template, mknode("win", labels={"kubernetes.io/os": "windows"}))


def test_unbinding_keeps_terms_that_do_not_pin_a_node() -> None:
    other_field = NodeSelectorTerm(match_fields=(NodeSelectorRequirement("spec.unknown", "In", ("x",)),))
    pod = mkpod("ds", node_affinity=(PIN, GPU_TERM, other_field), node_name="node-7")
    assert unbind_daemonset_pod(pod).node_affinity == (GPU_TERM, other_field)


def test_node_selector_affinity_and_taints_decide() -> None:
    gpu_node = mknode("g1", labels={"gpu": "a100"}, taints=[Taint("nvidia.com/gpu", "", "NoSchedule")])
    plain = mknode("p1")
    everywhere = mkpod("kube-proxy", tolerations=(Toleration(operator="Exists"),))
    untolerant = mkpod("node-exporter")
    gpu_only = mkpod(
        "nvidia-plugin",
        node_affinity=(GPU_TERM,),
        tolerations=(Toleration("nvidia.com/gpu", "Exists", effect="NoSchedule"),),
    )
    pods = [everywhere, untolerant, gpu_only]
    assert daemonset_pods_for(gpu_node, pods) == [everywhere, gpu_only]
    assert daemonset_pods_for(plain, pods) == [everywhere, untolerant]


def test_prefer_no_schedule_taints_do_not_keep_daemonsets_away() -> None:
    node = mknode("n", taints=[Taint("dedicated", "batch", "PreferNoSchedule")])
    assert runs_daemonset_pod(mkpod("ds"), node)


def test_cordon_is_ignored_unlike_the_scheduler() -> None:
    """The controller's pods tolerate `node.kubernetes.io/unschedulable`: a cordoned node keeps its DaemonSets
    (and any pod with that toleration passes the scheduler's NodeUnschedulable filter too)."""
    (pod,) = load_snapshot_from_objects([controller_made_pod()]).pods
    template = unbind_daemonset_pod(pod)
    cordoned = mknode("c", labels={"kubernetes.io/os": "linux"}, unschedulable=True)
    assert runs_daemonset_pod(template, cordoned)
    assert any(t.key == UNSCHEDULABLE_TAINT.key for t in template.tolerations)
    assert static_fit(template, cordoned) is None


def test_resources_are_not_part_of_the_decision_but_are_summed() -> None:
    tiny = mknode("tiny", cpu=100, mem_gib=0.1)
    big = mkpod("big-ds", cpu=2000, mem_gib=4)
    assert runs_daemonset_pod(big, tiny)  # the controller creates it; the node is then over-committed
    small = mkpod("small-ds", cpu=50, mem_gib=0.125)
    total = daemonset_requests([big, small])
    assert total == Resources({"cpu": 2050, "memory": int(4.125 * 1024**3), "pods": 2})
    assert not total.fits_in(tiny.allocatable)
    assert daemonset_requests([]) == Resources()
