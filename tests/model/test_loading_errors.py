# ruff: noqa: E501
"""Every bad input is a SnapshotLoadError naming the object and the field path, never a traceback."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_k8s_objects import container, node_obj, ns_obj, pdb_obj, pod_obj

from kubewise.model import SnapshotLoadError, load_snapshot_from_objects


def error_of(*objs: Any) -> str:
    with pytest.raises(SnapshotLoadError) as info:
        load_snapshot_from_objects(list(objs))
    return str(info.value)


def pod_with(path: str, value: Any) -> dict[str, Any]:
    """A valid pod with `value` set at dotted `path` (list indexes as digits)."""
    obj = pod_obj(containers=[container("a", cpu="1"), container("b", cpu="1")])
    parts = path.split(".")
    target: Any = obj
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
    target[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = value
    return obj


def test_invalid_quantity_message_is_exact() -> None:
    obj = pod_obj(containers=[container("a", cpu="1"), container("b", cpu="12x")])
    assert (
        error_of(obj)
        == "Pod default/web-1: spec.containers[1].resources.requests.cpu: invalid quantity '12x'"
    )


def test_error_is_a_value_error_with_parts() -> None:
    with pytest.raises(ValueError) as info:
        load_snapshot_from_objects([pod_obj(containers=[container(memory="-1Gi")])])
    err = info.value
    assert isinstance(err, SnapshotLoadError)
    assert (err.obj, err.field, err.source) == (
        "Pod default/web-1",
        "spec.containers[0].resources.requests.memory",
        "",
    )
    assert "negative quantity" in err.problem


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "spec.containers.1.resources.limits",
            {"memory": "lots"},
            "spec.containers[1].resources.limits.memory: invalid quantity 'lots'",
        ),
        (
            "spec.containers.0.resources.requests",
            {"cpu": True},
            "spec.containers[0].resources.requests.cpu: invalid quantity True",
        ),
        (
            "spec.containers.0.resources.requests",
            {"cpu": [1]},
            "spec.containers[0].resources.requests.cpu: invalid quantity [1]",
        ),
        (
            "spec.containers.0.resources.requests",
            {"cpu": "NaN"},
            "spec.containers[0].resources.requests.cpu: invalid quantity 'NaN'",
        ),
        (
            "spec.containers.0.resources.requests",
            {"cpu": "Infinity"},
            "requests.cpu: invalid quantity 'Infinity'",
        ),
        ("spec.containers.0.resources.requests", {"cpu": None}, "requests.cpu: invalid quantity None"),
        (
            "spec.containers.0.resources.requests",
            ["cpu"],
            "spec.containers[0].resources.requests: expected an object, got list",
        ),
        (
            "spec.containers.0.resources",
            "big",
            "spec.containers[0].resources: expected an object, got string",
        ),
        ("spec.containers.1", "nginx", "spec.containers[1]: expected an object, got string"),
        ("spec.containers", {"name": "c"}, "spec.containers: expected a list, got object"),
        ("spec.containers", [], "spec.containers: missing required field"),
        (
            "spec.initContainers",
            [{"name": "i", "resources": {"requests": {"cpu": "1q"}}}],
            "spec.initContainers[0].resources.requests.cpu: invalid quantity '1q'",
        ),
        (
            "spec.initContainers",
            [{"name": "i", "restartPolicy": 1}],
            "spec.initContainers[0].restartPolicy: expected a string",
        ),
        ("spec.overhead", {"cpu": "x"}, "spec.overhead.cpu: invalid quantity 'x'"),
        ("spec.resources", {"requests": {"cpu": "x"}}, "spec.resources.requests.cpu: invalid quantity 'x'"),
        ("spec.nodeName", 7, "spec.nodeName: expected a string, got int 7"),
        ("spec.priority", "high", "spec.priority: expected an integer, got string 'high'"),
        ("spec.priority", True, "spec.priority: expected an integer, got boolean True"),
        ("spec.nodeSelector", {"zone": 1}, "spec.nodeSelector.zone: expected a string, got 1"),
        (
            "spec.tolerations",
            [{"key": "a", "operator": "Maybe"}],
            "spec.tolerations[0].operator: unknown value 'Maybe' (expected one of Equal, Exists)",
        ),
        (
            "spec.tolerations",
            [{"key": "a", "effect": "NoRun"}],
            "spec.tolerations[0].effect: unknown value 'NoRun'",
        ),
        (
            "spec.tolerations",
            [{"key": "a", "tolerationSeconds": "5"}],
            "spec.tolerations[0].tolerationSeconds: expected an integer",
        ),
        (
            "spec.volumes",
            [{"name": "v", "configMap": {}}, "tmp"],
            "spec.volumes[1]: expected an object, got string",
        ),
        ("spec.affinity", [], "spec.affinity: expected an object, got list"),
        (
            "spec.affinity",
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "Near"}]}]
                    }
                }
            },
            "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: unknown value 'Near'",
        ),
        (
            "spec.affinity",
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchFields": [{"operator": "In"}]}]
                    }
                }
            },
            "nodeSelectorTerms[0].matchFields[0].key: missing required field",
        ),
        (
            "spec.affinity",
            {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}}]}},
            "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: missing required field",
        ),
        (
            "spec.affinity",
            {
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "topologyKey": "z",
                            "labelSelector": {"matchExpressions": [{"key": "a", "operator": "Like"}]},
                        }
                    ]
                }
            },
            "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator: unknown value 'Like'",
        ),
        (
            "spec.affinity",
            {
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"topologyKey": "z", "namespaces": "prod"}
                    ]
                }
            },
            "requiredDuringSchedulingIgnoredDuringExecution[0].namespaces: expected a list, got string",
        ),
        (
            "spec.topologySpreadConstraints",
            [{"topologyKey": "z", "whenUnsatisfiable": "DoNotSchedule"}],
            "spec.topologySpreadConstraints[0].maxSkew: missing or not a positive integer",
        ),
        (
            "spec.topologySpreadConstraints",
            [{"maxSkew": 1, "topologyKey": "z", "whenUnsatisfiable": "Sometimes"}],
            "spec.topologySpreadConstraints[0].whenUnsatisfiable: unknown value 'Sometimes'",
        ),
        (
            "spec.topologySpreadConstraints",
            [{"maxSkew": 1, "topologyKey": "z"}],
            "spec.topologySpreadConstraints[0].whenUnsatisfiable: missing required field",
        ),
        (
            "spec.topologySpreadConstraints",
            [{"maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"}],
            "spec.topologySpreadConstraints[0].topologyKey: missing required field",
        ),
        (
            "spec.topologySpreadConstraints",
            [{"maxSkew": 1, "topologyKey": "z", "whenUnsatisfiable": "DoNotSchedule", "minDomains": 0}],
            "spec.topologySpreadConstraints[0].minDomains: must be >= 1, got 0",
        ),
        (
            "spec.topologySpreadConstraints",
            [
                {
                    "maxSkew": 1,
                    "topologyKey": "z",
                    "whenUnsatisfiable": "DoNotSchedule",
                    "nodeTaintsPolicy": "Sometimes",
                }
            ],
            "spec.topologySpreadConstraints[0].nodeTaintsPolicy: unknown value",
        ),
        ("metadata.labels", {"app": True}, "metadata.labels.app: expected a string, got True"),
        (
            "metadata.ownerReferences",
            [{"controller": True, "name": "x"}],
            "metadata.ownerReferences[0].kind: missing required field",
        ),
        ("metadata.annotations", "x", "metadata.annotations: expected an object, got string"),
        ("metadata.uid", 5, "metadata.uid: expected a string"),
        ("status", "Running", "status: expected an object, got string"),
        ("status.phase", 1, "status.phase: expected a string"),
        ("spec", [], "spec: expected an object, got list"),
    ],
)
def test_pod_field_errors_name_the_pod_and_the_field(path: str, value: Any, expected: str) -> None:
    message = error_of(pod_with(path, value))
    assert message.startswith("Pod default/web-1: "), message
    assert expected in message, message


def test_missing_spec_means_missing_containers() -> None:
    obj = pod_obj()
    del obj["spec"]
    assert error_of(obj) == (
        "Pod default/web-1: spec.containers: missing required field (a pod needs at least one container)"
    )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda o: o["metadata"].pop("name"), "Pod #2: metadata.name: missing required field"),
        (lambda o: o["metadata"].update(name=""), "Pod #2: metadata.name: missing required field"),
        (lambda o: o["metadata"].update(name=5), "Pod #2: metadata.name: expected a string, got 5"),
        (lambda o: o.pop("metadata"), "Pod #2: metadata: missing required field"),
        (lambda o: o.update(metadata=[]), "Pod #2: metadata: expected an object, got list"),
        (
            lambda o: o["metadata"].update(namespace=3),
            "Pod web-1: metadata.namespace: expected a string, got 3",
        ),
    ],
)
def test_unnamed_objects_are_named_by_position(mutate: Any, expected: str) -> None:
    obj = pod_obj()
    mutate(obj)
    assert error_of(node_obj(), obj) == expected


def test_position_inside_a_list() -> None:
    broken = pod_obj()
    del broken["metadata"]["name"]
    assert error_of({"kind": "List", "items": [node_obj(), broken]}) == (
        "Pod #1.items[1]: metadata.name: missing required field"
    )


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (node_obj(allocatable={"cpu": "four"}), "Node n1: status.allocatable.cpu: invalid quantity 'four'"),
        (node_obj(capacity={"memory": "16GB"}), "Node n1: status.capacity.memory: invalid quantity '16GB'"),
        (
            node_obj(spec={"unschedulable": "yes"}),
            "Node n1: spec.unschedulable: expected a boolean, got 'yes'",
        ),
        (node_obj(spec={"taints": [{"key": "k"}]}), "Node n1: spec.taints[0].effect: missing required field"),
        (
            node_obj(spec={"taints": [{"effect": "NoSchedule"}]}),
            "Node n1: spec.taints[0].key: missing required field",
        ),
        (
            node_obj(spec={"taints": [{"key": "k", "effect": "Never"}]}),
            "Node n1: spec.taints[0].effect: unknown value 'Never'",
        ),
        (node_obj(spec={"providerID": ["aws"]}), "Node n1: spec.providerID: expected a string, got list"),
        (node_obj(labels={"spot": None}), "Node n1: metadata.labels.spot: expected a string, got None"),  # type: ignore[dict-item]
        (node_obj(status={"nodeInfo": "linux"}), "Node n1: status.nodeInfo: expected an object, got string"),
    ],
)
def test_node_errors(obj: dict[str, Any], expected: str) -> None:
    assert error_of(obj).startswith(expected)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (
            pdb_obj(minAvailable="half"),
            "PodDisruptionBudget default/web: spec.minAvailable: expected a non-negative integer or a percentage like '50%', got 'half'",
        ),
        (
            pdb_obj(maxUnavailable=-1),
            "PodDisruptionBudget default/web: spec.maxUnavailable: expected a non-negative",
        ),
        (
            pdb_obj(maxUnavailable=1.5),
            "PodDisruptionBudget default/web: spec.maxUnavailable: expected a non-negative integer",
        ),
        (
            pdb_obj(minAvailable=1, maxUnavailable=1),
            "PodDisruptionBudget default/web: spec: minAvailable and maxUnavailable are both set",
        ),
        (
            pdb_obj(selector={"matchLabels": []}),
            "PodDisruptionBudget default/web: spec.selector.matchLabels: expected an object, got list",
        ),
        (
            pdb_obj(status={"disruptionsAllowed": "1"}),
            "PodDisruptionBudget default/web: status.disruptionsAllowed: expected an integer",
        ),
        (ns_obj("shop", {"team": 1}), "Namespace shop: metadata.labels.team: expected a string, got 1"),  # type: ignore[dict-item]
        ({"kind": "Namespace", "metadata": {}}, "Namespace #1: metadata.name: missing required field"),
    ],
)
def test_pdb_and_namespace_errors(obj: dict[str, Any], expected: str) -> None:
    assert error_of(obj).startswith(expected)


@pytest.mark.parametrize(
    ("objs", "expected"),
    [
        ([["not", "an", "object"]], "item #1: expected a Kubernetes object (a mapping), got list"),
        (["Pod"], "item #1: expected a Kubernetes object (a mapping), got str"),
        ([{"metadata": {"name": "x"}}], "item #1: kind: missing kind"),
        ([{"kind": 3, "metadata": {"name": "x"}}], "item #1: kind: missing kind"),
        ([{"kind": "List", "items": {"a": 1}}], "List #1: items: expected a list"),
        (
            [{"kind": "List", "items": [node_obj(), 7]}],
            "item #1.items[1]: expected a Kubernetes object (a mapping), got int",
        ),
    ],
)
def test_structural_errors(objs: list[Any], expected: str) -> None:
    assert error_of(*objs) == expected


def test_duplicates_are_errors() -> None:
    assert error_of(pod_obj(), pod_obj()) == "Pod default/web-1: duplicate object: defined twice in the input"
    assert error_of(node_obj("n1"), node_obj("n1")) == "Node n1: duplicate object: defined twice in the input"


def test_only_irrelevant_kinds() -> None:
    objs = [{"kind": "ConfigMap", "metadata": {"name": "a"}}, {"kind": "Service", "metadata": {"name": "b"}}]
    assert error_of(*objs) == "no Kubernetes objects found (only ConfigMap, Service)"


def test_input_is_never_mutated() -> None:
    obj = pod_obj(
        containers=[container(limits={"cpu": "1"})], spec={"resources": {"limits": {"memory": "1Gi"}}}
    )
    before = copy.deepcopy(obj)
    load_snapshot_from_objects([obj])
    assert obj == before


def test_non_string_keys_from_yaml() -> None:
    assert error_of(pod_with("metadata.labels", {1: "a"})) == (
        "Pod default/web-1: metadata.labels: expected string keys, got 1"
    )
    assert error_of(pod_with("spec.containers.0.resources.requests", {1: "2"})) == (
        "Pod default/web-1: spec.containers[0].resources.requests: expected resource names, got 1"
    )


def test_absurdly_nested_lists() -> None:
    doc: dict[str, Any] = {"kind": "List", "items": []}
    for _ in range(5000):
        doc = {"kind": "List", "items": [doc]}
    assert error_of(doc) == "item #1: objects nested too deeply"


def _full_objects() -> list[dict[str, Any]]:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "operator": "In", "values": ["x"]}]}]
            }
        },
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "w"}}, "topologyKey": "z", "namespaceSelector": {}}
            ]
        },
    }
    spec = {
        "affinity": affinity,
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}],
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "z", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {}}
        ],
        "volumes": [{"name": "v", "emptyDir": {}}],
        "overhead": {"cpu": "10m"},
        "resources": {"limits": {"cpu": "1"}},
        "nodeSelector": {"a": "b"},
        "priority": 5,
    }
    pod = pod_obj(
        containers=[container(cpu="1", limits={"memory": "1Gi"})],
        init=[container("s", cpu="1", restart_policy="Always")],
        owner=("ReplicaSet", "web-abc"),
        labels={"pod-template-hash": "abc"},
        spec=spec,
        meta={"annotations": {"a": "b"}},
    )
    node = node_obj(
        spec={"taints": [{"key": "k", "effect": "NoSchedule"}], "unschedulable": False},
        provider_id="aws:///us-east-1a/i-1",
        allocatable={"cpu": "1"},
        status={"nodeInfo": {"architecture": "arm64"}},
    )
    pdb = pdb_obj(
        minAvailable="50%",
        selector={"matchExpressions": [{"key": "a", "operator": "Exists"}]},
        status={"disruptionsAllowed": 0},
    )
    return [{"kind": "List", "items": [pod, node, pdb, ns_obj("default", {"a": "b"})]}]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


_FULL_PATHS = _paths(_full_objects())
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats()
    | st.text(max_size=4)
    | st.sampled_from(["1Gi", "In", "Always", "50%"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(path=st.sampled_from(_FULL_PATHS), value=_json_values)
def test_any_corruption_is_a_snapshot_load_error_or_loads(path: tuple[Any, ...], value: Any) -> None:
    objs = _full_objects()
    target: Any = objs
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    try:
        load_snapshot_from_objects(objs)
    except SnapshotLoadError as exc:
        assert str(exc)
