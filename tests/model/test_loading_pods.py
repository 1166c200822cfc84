"""Pod fields other than requests: identity, phase, ownership, placement constraints, storage."""

from __future__ import annotations

import pytest
from model_k8s_objects import container, load_pod, pod_obj

from kubewise.model import (
    MATCH_NOTHING,
    LabelRequirement,
    LabelSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    OwnerKind,
    PodAffinityTerm,
    Toleration,
    TopologySpreadConstraint,
    load_snapshot_from_objects,
)


def test_identity_labels_node_priority_uid() -> None:
    obj = pod_obj("api-0", "shop", labels={"app": "api"}, node="ip-10-0-1-2", spec={"priority": 1000})
    pod = load_pod(obj)
    assert (pod.namespace, pod.name, pod.key) == ("shop", "api-0", "shop/api-0")
    assert pod.labels == {"app": "api"}
    assert pod.node_name == "ip-10-0-1-2"
    assert pod.priority == 1000
    assert pod.uid == "uid-api-0"
    assert pod.phase == "Running"


def test_defaults_for_a_minimal_manifest() -> None:
    obj = {"kind": "Pod", "metadata": {"name": "bare"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    pod = load_pod(obj)
    assert (pod.namespace, pod.phase, pod.priority, pod.node_name) == ("default", "Pending", 0, "")
    assert pod.owner_kind == OwnerKind.NONE and pod.owner_name == ""
    assert not pod.has_local_storage


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_terminal_pods_are_loaded_but_not_active(phase: str) -> None:
    snap = load_snapshot_from_objects([pod_obj("done", phase=phase), pod_obj("live", phase="Running")])
    assert [p.name for p in snap.pods] == ["done", "live"]
    assert snap.pods[0].is_terminal
    assert [p.name for p in snap.active_pods] == ["live"]


@pytest.mark.parametrize(
    ("owner", "labels", "expected"),
    [
        (("ReplicaSet", "web-7d9f8b6c5"), {"pod-template-hash": "7d9f8b6c5"}, ("Deployment", "web")),
        (("ReplicaSet", "my-app-v2-5f6d"), {"pod-template-hash": "5f6d"}, ("Deployment", "my-app-v2")),
        (("ReplicaSet", "web-7d9f8b6c5"), {}, ("ReplicaSet", "web-7d9f8b6c5")),  # no hash label
        (("ReplicaSet", "handmade"), {"pod-template-hash": "abc"}, ("ReplicaSet", "handmade")),
        (("DaemonSet", "kube-proxy"), {}, ("DaemonSet", "kube-proxy")),
        (("StatefulSet", "db"), {}, ("StatefulSet", "db")),
        (("Job", "backup-28391040"), {}, ("Job", "backup-28391040")),  # created by a CronJob
        (("Node", "ip-10-0-1-2"), {}, ("Node", "ip-10-0-1-2")),
        (("Rollout", "canary"), {}, ("Rollout", "canary")),  # other controllers keep their kind
    ],
)
def test_ownership(owner: tuple[str, str], labels: dict[str, str], expected: tuple[str, str]) -> None:
    pod = load_pod(pod_obj(owner=owner, labels=labels))
    assert (pod.owner_kind, pod.owner_name) == expected


def test_daemonset_and_mirror_helpers() -> None:
    assert load_pod(pod_obj(owner=("DaemonSet", "ds"))).is_daemonset
    assert load_pod(pod_obj(owner=("Node", "n1"))).is_mirror


def test_mirror_annotation_without_owner_reference() -> None:
    obj = pod_obj(
        "etcd-cp1", "kube-system", node="cp1", meta={"annotations": {"kubernetes.io/config.mirror": "abc"}}
    )
    pod = load_pod(obj)
    assert (pod.owner_kind, pod.owner_name) == (OwnerKind.NODE, "cp1")


def test_owner_reference_without_controller_flag_is_not_the_owner() -> None:
    obj = pod_obj(meta={"ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "uid": "u"}]})
    assert load_pod(obj).owner_kind == OwnerKind.NONE


def test_first_controller_reference_wins_over_non_controllers() -> None:
    refs = [
        {"kind": "ConfigMap", "name": "cm", "uid": "1"},
        {"kind": "StatefulSet", "name": "db", "uid": "2", "controller": True},
    ]
    pod = load_pod(pod_obj(meta={"ownerReferences": refs}))
    assert (pod.owner_kind, pod.owner_name) == ("StatefulSet", "db")


@pytest.mark.parametrize(
    ("volumes", "expected"),
    [
        ([{"name": "tmp", "emptyDir": {}}], True),
        ([{"name": "mem", "emptyDir": {"medium": "Memory"}}], True),
        ([{"name": "logs", "hostPath": {"path": "/var/log"}}], True),
        ([{"name": "cfg", "configMap": {"name": "x"}}, {"name": "tok", "projected": {"sources": []}}], False),
        ([{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}], False),
    ],
)
def test_local_storage(volumes: list[dict], expected: bool) -> None:
    assert load_pod(pod_obj(spec={"volumes": volumes})).has_local_storage is expected


def test_node_selector_and_required_node_affinity() -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}
                        ]
                    },
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n7"]}]},
                ]
            },
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 1, "preference": {"matchExpressions": [{"key": "x", "operator": "Exists"}]}}
            ],
        }
    }
    pod = load_pod(pod_obj(spec={"nodeSelector": {"pool": "batch"}, "affinity": affinity}))
    assert pod.node_selector == {"pool": "batch"}
    assert pod.node_affinity == (
        NodeSelectorTerm(
            match_expressions=(NodeSelectorRequirement("kubernetes.io/arch", "In", ("arm64",)),)
        ),
        NodeSelectorTerm(match_fields=(NodeSelectorRequirement("metadata.name", "In", ("n7",)),)),
    )


def test_tolerations_with_defaults() -> None:
    tolerations = [
        {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
        {"operator": "Exists"},
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
    ]
    pod = load_pod(pod_obj(spec={"tolerations": tolerations}))
    assert pod.tolerations == (
        Toleration(key="dedicated", operator="Equal", value="gpu", effect="NoSchedule"),
        Toleration(operator="Exists"),
        Toleration(
            key="node.kubernetes.io/not-ready", operator="Exists", effect="NoExecute", toleration_seconds=300
        ),
    )
    assert pod.tolerations[2].toleration_seconds == 300


def test_required_pod_affinity_and_anti_affinity_terms() -> None:
    affinity = {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchLabels": {"app": "cache"}},
                    "topologyKey": "topology.kubernetes.io/zone",
                    "namespaces": ["infra"],
                    "namespaceSelector": {"matchLabels": {"team": "a"}},
                    "matchLabelKeys": ["pod-template-hash"],
                }
            ],
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "podAffinityTerm": {"labelSelector": {}, "topologyKey": "x"}}
            ],
        },
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {
                        "matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]
                    },
                    "topologyKey": "kubernetes.io/hostname",
                },
                {"topologyKey": "kubernetes.io/hostname", "namespaceSelector": {}},
            ]
        },
    }
    pod = load_pod(pod_obj(spec={"affinity": affinity}))
    assert pod.pod_affinity == (
        PodAffinityTerm(
            selector=LabelSelector(match_labels=(("app", "cache"),)),
            topology_key="topology.kubernetes.io/zone",
            namespaces=("infra",),
            namespace_selector=LabelSelector(match_labels=(("team", "a"),)),
        ),
    )
    anti = pod.pod_anti_affinity
    assert anti[0].selector == LabelSelector(
        match_expressions=(LabelRequirement("app", "In", ("web", "api")),)
    )
    assert anti[0].namespace_selector is None and anti[0].namespaces == ()
    # null labelSelector matches no pod; empty namespaceSelector ({}) means all namespaces
    assert anti[1].selector == MATCH_NOTHING
    assert not anti[1].selector.matches({}) and not anti[1].selector.matches({"app": "web"})
    assert anti[1].namespace_selector == LabelSelector() and anti[1].namespace_selector.matches({"any": "ns"})


def test_topology_spread_constraints_all_fields_and_defaults() -> None:
    constraints = [
        {
            "maxSkew": 2,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}},
            "minDomains": 3,
            "nodeAffinityPolicy": "Ignore",
            "nodeTaintsPolicy": "Honor",
            "matchLabelKeys": ["pod-template-hash"],
        },
        {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"},
    ]
    pod = load_pod(pod_obj(spec={"topologySpreadConstraints": constraints}))
    assert pod.topology_spread == (
        TopologySpreadConstraint(
            max_skew=2,
            topology_key="topology.kubernetes.io/zone",
            when_unsatisfiable="DoNotSchedule",
            selector=LabelSelector(match_labels=(("app", "web"),)),
            min_domains=3,
            node_affinity_policy="Ignore",
            node_taints_policy="Honor",
            match_label_keys=("pod-template-hash",),
        ),
        TopologySpreadConstraint(
            max_skew=1,
            topology_key="kubernetes.io/hostname",
            when_unsatisfiable="ScheduleAnyway",
            selector=MATCH_NOTHING,  # no labelSelector: counts no pods
        ),
    )


def test_match_labels_are_canonically_ordered() -> None:
    a = {"labelSelector": {"matchLabels": {"b": "2", "a": "1"}}, "topologyKey": "k"}
    b = {"labelSelector": {"matchLabels": {"a": "1", "b": "2"}}, "topologyKey": "k"}

    def terms(term: dict) -> tuple:
        spec = {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}}
        return load_pod(pod_obj(spec=spec)).pod_anti_affinity

    assert terms(a) == terms(b)


def test_null_fields_are_treated_as_absent() -> None:
    obj = pod_obj(
        containers=[{"name": "c", "resources": None}],
        spec={
            "tolerations": None,
            "affinity": None,
            "volumes": None,
            "nodeSelector": None,
            "initContainers": None,
        },
        meta={"labels": None, "ownerReferences": None, "annotations": None},
    )
    obj["status"] = None
    pod = load_pod(obj)
    assert pod.phase == "Pending" and pod.tolerations == () and pod.labels == {}


def test_same_containers_in_many_pods_share_parsed_quantities() -> None:
    objs = [pod_obj(f"p{i}", containers=[container(cpu="250m", memory="512Mi")]) for i in range(50)]
    snap = load_snapshot_from_objects(objs)
    assert {p.requests["cpu"] for p in snap.pods} == {250}
