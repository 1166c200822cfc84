"""PodDisruptionBudgets, Namespaces, list flattening and snapshot assembly from objects."""

from __future__ import annotations

import pytest
from model_k8s_objects import node_obj, ns_obj, pdb_obj, pod_obj

from kubewise.model import MATCH_NOTHING, LabelSelector, SnapshotLoadError, load_snapshot_from_objects


def load_pdb(obj: dict):  # type: ignore[no-untyped-def]
    (pdb,) = load_snapshot_from_objects([obj]).pdbs
    return pdb


def test_pdb_min_available_int_and_status() -> None:
    pdb = load_pdb(
        pdb_obj(minAvailable=2, selector={"matchLabels": {"app": "web"}}, status={"disruptionsAllowed": 1})
    )
    assert (pdb.namespace, pdb.name) == ("default", "web")
    assert pdb.min_available == 2 and pdb.max_unavailable is None
    assert pdb.disruptions_allowed == 1
    assert pdb.selector == LabelSelector(match_labels=(("app", "web"),))


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("minAvailable", "50%", "50%"),
        ("maxUnavailable", "25%", "25%"),
        ("maxUnavailable", 0, 0),
        ("minAvailable", "3", 3),  # a digit string is read as an integer
    ],
)
def test_pdb_int_or_percent(field: str, raw: object, expected: object) -> None:
    pdb = load_pdb(pdb_obj(**{field: raw, "selector": {}}))
    attr = "min_available" if field == "minAvailable" else "max_unavailable"
    assert getattr(pdb, attr) == expected
    assert pdb.disruptions_allowed is None


def test_pdb_covers_pods_of_its_namespace_only() -> None:
    snap = load_snapshot_from_objects(
        [
            pdb_obj(minAvailable=1, selector={"matchLabels": {"app": "web"}}),
            pod_obj("a", labels={"app": "web"}),
            pod_obj("b", "other", labels={"app": "web"}),
            pod_obj("c", labels={"app": "db"}),
        ]
    )
    (pdb,) = snap.pdbs
    assert [p.name for p in snap.pods if pdb.covers(p)] == ["a"]


def test_pdb_null_selector_selects_nothing() -> None:
    pdb = load_pdb(pdb_obj(minAvailable=1))
    assert pdb.selector == MATCH_NOTHING
    assert not pdb.selector.matches({"app": "web"})


def test_namespaces_give_namespace_labels() -> None:
    snap = load_snapshot_from_objects(
        [
            ns_obj("default", {"kubernetes.io/metadata.name": "default"}),
            ns_obj("shop", {"team": "a"}),
            {"kind": "Namespace", "metadata": {"name": "bare"}},
        ]
    )
    assert snap.namespace_labels == {
        "default": {"kubernetes.io/metadata.name": "default"},
        "shop": {"team": "a"},
        "bare": {},
    }


def test_lists_are_flattened_and_other_kinds_ignored() -> None:
    dump = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            node_obj("n1"),
            {"kind": "List", "items": [pod_obj("p1"), {"kind": "ConfigMap", "metadata": {"name": "cm"}}]},
            {"kind": "Service", "metadata": {"name": "svc"}},
            pdb_obj(),
        ],
    }
    snap = load_snapshot_from_objects([dump, ns_obj("default")])
    assert [n.name for n in snap.nodes] == ["n1"]
    assert [p.name for p in snap.pods] == ["p1"]
    assert [b.name for b in snap.pdbs] == ["web"]
    assert list(snap.namespace_labels) == ["default"]


def test_typed_api_lists_without_item_kinds() -> None:
    """Raw API list responses (`kubectl get --raw /api/v1/pods`) omit `kind` on items."""
    pods = pod_obj("p1")
    del pods["kind"]
    nodes = node_obj("n1")
    del nodes["kind"]
    snap = load_snapshot_from_objects(
        [
            {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [pods]},
            {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": [nodes]},
            {"kind": "PodDisruptionBudgetList", "items": None},
        ]
    )
    assert [p.name for p in snap.pods] == ["p1"] and [n.name for n in snap.nodes] == ["n1"]
    assert "kind" not in pods  # the input is not mutated


def test_snapshot_keeps_input_order() -> None:
    snap = load_snapshot_from_objects([pod_obj("b"), node_obj("n2"), pod_obj("a"), node_obj("n1")])
    assert [p.name for p in snap.pods] == ["b", "a"]
    assert [n.name for n in snap.nodes] == ["n2", "n1"]


def test_same_name_in_different_namespaces_or_kinds_is_not_a_duplicate() -> None:
    snap = load_snapshot_from_objects([pod_obj("x", "a"), pod_obj("x", "b"), node_obj("x"), ns_obj("x")])
    assert len(snap.pods) == 2


def test_generator_input_is_accepted() -> None:
    snap = load_snapshot_from_objects(pod_obj(f"p{i}") for i in range(3))
    assert len(snap.pods) == 3


def test_pods_without_nodes_is_a_valid_snapshot() -> None:
    assert load_snapshot_from_objects([pod_obj()]).nodes == ()


def test_empty_input_is_an_error() -> None:
    with pytest.raises(SnapshotLoadError, match="no Kubernetes objects found"):
        load_snapshot_from_objects([])
    with pytest.raises(SnapshotLoadError, match="no Kubernetes objects found"):
        load_snapshot_from_objects([{"kind": "List", "items": []}])


def test_pdb_empty_selector_covers_all_pods_null_selector_none() -> None:
    from kubewise.model import LabelSelector, PodDisruptionBudget, Resources
    from kubewise.model import Pod as ModelPod
    from kubewise.model.kube_selectors import MATCH_NOTHING

    p = ModelPod("ns", "a", Resources({"pods": 1}), labels={"app": "x"})
    assert PodDisruptionBudget("ns", "all", LabelSelector()).covers(p)
    assert not PodDisruptionBudget("ns", "none", MATCH_NOTHING).covers(p)
    assert not PodDisruptionBudget("other", "all", LabelSelector()).covers(p)
