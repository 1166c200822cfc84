"""Node-level filters, table-driven after the upstream nodeaffinity / tainttoleration plugin tests."""

from __future__ import annotations

import pytest
from sched_helpers import GIB, mknode, mkpod, sel_expr

from kubewise.model import LabelSelector, NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration
from kubewise.scheduling import (
    UNSCHEDULABLE_TAINT,
    matches_node_affinity,
    matches_node_selector,
    static_fit,
    tolerates,
    toleration_tolerates,
    untolerated_taint,
)
from kubewise.scheduling.describe import format_amount, format_selector, format_taint


def req(key: str, op: str, *values: str) -> NodeSelectorRequirement:
    return NodeSelectorRequirement(key, op, tuple(values))


def term(
    *exprs: NodeSelectorRequirement, fields: tuple[NodeSelectorRequirement, ...] = ()
) -> NodeSelectorTerm:
    return NodeSelectorTerm(tuple(exprs), fields)


# --- node selector ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "labels", "ok"),
    [
        ({"foo": "bar"}, {}, False),  # missing labels
        ({"foo": "bar"}, {"foo": "bar"}, True),  # same labels
        ({"foo": "bar"}, {"foo": "bar", "baz": "blah"}, True),  # node labels are superset
        ({"foo": "bar", "baz": "blah"}, {"foo": "bar"}, False),  # node labels are subset
        ({"foo": ""}, {}, False),  # empty value still needs the label
        ({}, {"foo": "bar"}, True),
    ],
)
def test_node_selector(selector: dict[str, str], labels: dict[str, str], ok: bool) -> None:
    assert matches_node_selector(mkpod("p", node_selector=selector), labels) is ok


# --- node affinity ---------------------------------------------------------------------------------

AFFINITY_CASES = [
    # (name, terms, labels, node name, expected) -- first block mirrors upstream TestNodeAffinity
    ("In matches", [term(req("foo", "In", "bar", "value2"))], {"foo": "bar"}, "n", True),
    ("Gt matches", [term(req("kernel-version", "Gt", "0204"))], {"kernel-version": "0206"}, "n", True),
    ("NotIn matches", [term(req("mem-type", "NotIn", "DDR", "DDR2"))], {"mem-type": "DDR3"}, "n", True),
    ("Exists matches", [term(req("GPU", "Exists"))], {"GPU": "NVIDIA-GRID-K1"}, "n", True),
    ("In does not match", [term(req("foo", "In", "value1", "value2"))], {"foo": "bar"}, "n", False),
    ("empty term matches nothing", [term()], {"foo": "bar"}, "n", False),
    ("no affinity", [], {"foo": "bar"}, "n", True),
    (
        "ANDed match",
        [term(req("GPU", "Exists"), req("GPU", "NotIn", "AMD", "INTER"))],
        {"GPU": "NVIDIA"},
        "n",
        True,
    ),
    (
        "ANDed no match",
        [term(req("GPU", "Exists"), req("GPU", "In", "AMD", "INTER"))],
        {"GPU": "NVIDIA"},
        "n",
        False,
    ),
    (
        "terms ORed",
        [term(req("foo", "In", "bar", "value2")), term(req("diffkey", "In", "wrong", "value2"))],
        {"foo": "bar"},
        "n",
        True,
    ),
    ("invalid value", [term(req("foo", "NotIn", "invalid value: ___@#$%^"))], {"foo": "bar"}, "n", False),
    ("fields In match", [term(fields=(req("metadata.name", "In", "node1"),))], {}, "node1", True),
    ("fields In no match", [term(fields=(req("metadata.name", "In", "node1"),))], {}, "node2", False),
    (
        "two terms: fields no, exprs yes",
        [term(fields=(req("metadata.name", "In", "node1"),)), term(req("foo", "In", "bar"))],
        {"foo": "bar"},
        "node2",
        True,
    ),
    (
        "one term: fields no, exprs yes",
        [term(req("foo", "In", "bar"), fields=(req("metadata.name", "In", "node1"),))],
        {"foo": "bar"},
        "node2",
        False,
    ),
    (
        "one term: both match",
        [term(req("foo", "In", "bar"), fields=(req("metadata.name", "In", "node1"),))],
        {"foo": "bar"},
        "node1",
        True,
    ),
    (
        "two terms: neither",
        [term(fields=(req("metadata.name", "In", "node1"),)), term(req("foo", "In", "not-match-to-bar"))],
        {"foo": "bar"},
        "node2",
        False,
    ),
    (
        "two name terms",
        [
            term(fields=(req("metadata.name", "In", "node1"),)),
            term(fields=(req("metadata.name", "In", "node2"),)),
        ],
        {},
        "node2",
        True,
    ),
    (
        "conflicting field requirements",
        [term(fields=(req("metadata.name", "In", "node1"), req("metadata.name", "In", "node2")))],
        {},
        "node2",
        False,
    ),
    # operator edge cases (labels.Requirement semantics)
    ("Lt matches", [term(req("cores", "Lt", "8"))], {"cores": "4"}, "n", True),
    ("Lt equal is no match", [term(req("cores", "Lt", "8"))], {"cores": "8"}, "n", False),
    ("Gt equal is no match", [term(req("cores", "Gt", "8"))], {"cores": "8"}, "n", False),
    ("Gt label not an integer", [term(req("cores", "Gt", "1"))], {"cores": "many"}, "n", False),
    ("Gt label missing", [term(req("cores", "Gt", "1"))], {}, "n", False),
    ("Gt value not an integer (invalid term)", [term(req("cores", "Gt", "x"))], {"cores": "4"}, "n", False),
    ("Gt two values (invalid term)", [term(req("cores", "Gt", "1", "2"))], {"cores": "4"}, "n", False),
    ("Gt negative value is not a label value", [term(req("cores", "Gt", "-1"))], {"cores": "4"}, "n", False),
    ("Gt beyond int64 (invalid term)", [term(req("cores", "Gt", "9" * 20))], {"cores": "4"}, "n", False),
    ("Lt label beyond int64", [term(req("cores", "Lt", "5"))], {"cores": "9" * 20}, "n", False),
    ("DoesNotExist, missing", [term(req("spot", "DoesNotExist"))], {}, "n", True),
    ("DoesNotExist, present", [term(req("spot", "DoesNotExist"))], {"spot": "true"}, "n", False),
    ("NotIn, label missing", [term(req("foo", "NotIn", "bar"))], {}, "n", True),
    ("In without values (invalid)", [term(req("foo", "In"))], {"foo": "bar"}, "n", False),
    ("Exists with values (invalid)", [term(req("foo", "Exists", "bar"))], {"foo": "bar"}, "n", False),
    ("unknown operator (invalid)", [term(req("foo", "Equals", "bar"))], {"foo": "bar"}, "n", False),
    ("invalid key (invalid)", [term(req("invalid key", "Exists"))], {"invalid key": "x"}, "n", False),
    (
        "invalid term does not spoil a valid one",
        [term(req("foo", "In")), term(req("foo", "In", "bar"))],
        {"foo": "bar"},
        "n",
        True,
    ),
    ("prefixed key", [term(req("example.com/tier", "In", "gold"))], {"example.com/tier": "gold"}, "n", True),
    ("unknown field reads as empty", [term(fields=(req("metadata.uid", "NotIn", "x"),))], {}, "n", True),
    ("field NotIn", [term(fields=(req("metadata.name", "NotIn", "n"),))], {}, "n", False),
    (
        "field with two values (invalid)",
        [term(fields=(req("metadata.name", "In", "n", "m"),))],
        {},
        "n",
        False,
    ),
    ("field Exists (invalid)", [term(fields=(req("metadata.name", "Exists"),))], {}, "n", False),
]


@pytest.mark.parametrize(
    ("name", "terms", "labels", "node_name", "ok"), AFFINITY_CASES, ids=[c[0] for c in AFFINITY_CASES]
)
def test_node_affinity(
    name: str, terms: list[NodeSelectorTerm], labels: dict[str, str], node_name: str, ok: bool
) -> None:
    pod = mkpod("p", node_affinity=tuple(terms))
    assert matches_node_affinity(pod, labels, node_name) is ok


def test_node_selector_and_affinity_both_apply() -> None:
    pod = mkpod("p", node_selector={"foo": "bar"}, node_affinity=(term(req("foo", "Exists")),))
    assert static_fit(pod, mknode("n", labels={"foo": "bar"})) is None
    reason = static_fit(pod, mknode("n", labels={"foo": "barrrrrr"}))
    assert reason == "node selector foo=bar does not match (node has barrrrrr)"


# --- taints and tolerations ------------------------------------------------------------------------

TOLERATION_CASES = [
    # (toleration, taint, tolerated) -- after upstream TestTolerationToleratesTaint
    (Toleration("foo", "Exists", "", "NoSchedule"), Taint("foo", "", "NoSchedule"), True),
    (Toleration("foo", "Exists", "", "NoSchedule"), Taint("foo", "bar", "NoSchedule"), True),
    (Toleration("", "Exists", "", "NoSchedule"), Taint("foo", "bar", "NoSchedule"), True),
    (Toleration("", "Exists"), Taint("anything", "x", "NoExecute"), True),  # tolerates everything
    (Toleration("foo", "Equal", "bar", "NoSchedule"), Taint("foo", "bar", "NoSchedule"), True),
    (Toleration("foo", "Equal", "value1", "NoSchedule"), Taint("foo", "value2", "NoSchedule"), False),
    (Toleration("foo", "Equal", "bar", "NoExecute"), Taint("foo", "bar", "NoSchedule"), False),
    (Toleration("foo", "Equal", "bar", ""), Taint("foo", "bar", "NoExecute"), True),  # empty effect: all
    (Toleration("foo", "", "bar", "NoSchedule"), Taint("foo", "bar", "NoSchedule"), True),  # "" means Equal
    (Toleration("foo", "Exists", "ignored", "NoSchedule"), Taint("foo", "bar", "NoSchedule"), True),
    (Toleration("other", "Exists"), Taint("foo", "bar", "NoSchedule"), False),
    (Toleration("foo", "Gt", "1"), Taint("foo", "2", "NoSchedule"), False),  # unknown operator
    (Toleration("", "Equal", "bar"), Taint("foo", "bar", "NoSchedule"), True),  # upstream code, odd but true
]


@pytest.mark.parametrize(("toleration", "taint", "ok"), TOLERATION_CASES)
def test_toleration_tolerates(toleration: Toleration, taint: Taint, ok: bool) -> None:
    assert toleration_tolerates(toleration, taint) is ok


FILTER_CASES = [
    # (tolerations, node taints, fits) -- after upstream TestTaintTolerationFilter
    ((), (Taint("dedicated", "user1", "NoSchedule"),), False),
    (
        (Toleration("dedicated", "Equal", "user1", "NoSchedule"),),
        (Taint("dedicated", "user1", "NoSchedule"),),
        True,
    ),
    (
        (Toleration("dedicated", "Equal", "user2", "NoSchedule"),),
        (Taint("dedicated", "user1", "NoSchedule"),),
        False,
    ),
    ((Toleration("foo", "Exists", "", "NoSchedule"),), (Taint("foo", "bar", "NoSchedule"),), True),
    (
        (
            Toleration("dedicated", "Equal", "user2", "NoSchedule"),
            Toleration("foo", "Exists", "", "NoSchedule"),
        ),
        (Taint("dedicated", "user2", "NoSchedule"), Taint("foo", "bar", "NoSchedule")),
        True,
    ),
    ((Toleration("foo", "Equal", "bar", "PreferNoSchedule"),), (Taint("foo", "bar", "NoSchedule"),), False),
    ((Toleration("foo", "Equal", "bar"),), (Taint("foo", "bar", "NoSchedule"),), True),
    ((), (Taint("foo", "bar", "PreferNoSchedule"),), True),  # PreferNoSchedule is ignored
    ((), (Taint("foo", "bar", "NoExecute"),), False),
    ((), (), True),
]


@pytest.mark.parametrize(("tolerations", "taints", "ok"), FILTER_CASES)
def test_taint_toleration_filter(
    tolerations: tuple[Toleration, ...], taints: tuple[Taint, ...], ok: bool
) -> None:
    pod = mkpod("p", tolerations=tolerations)
    assert tolerates(pod, taints) is ok
    assert (untolerated_taint(pod, taints) is None) is ok


def test_untolerated_taint_is_the_first_in_node_order() -> None:
    taints = (Taint("a", "1", "PreferNoSchedule"), Taint("b", "2", "NoSchedule"), Taint("c", "", "NoExecute"))
    assert untolerated_taint(mkpod("p"), taints) == taints[1]
    tolerant = mkpod("p", tolerations=(Toleration("b", "Exists"),))
    assert untolerated_taint(tolerant, taints) == taints[2]


# --- static_fit ------------------------------------------------------------------------------------


def test_static_fit_reasons() -> None:
    node = mknode("n", cpu=3920, mem_gib=15)
    assert static_fit(mkpod("p", cpu=6000), node) == "needs 6000m cpu, node allocatable is 3920m"
    assert static_fit(mkpod("p", mem_gib=16), node) == "needs 16GiB memory, node allocatable is 15GiB"
    assert static_fit(mkpod("p", mem_gib=0.5), node) is None
    arm = mkpod("p", node_selector={"kubernetes.io/arch": "arm64"})
    assert static_fit(arm, mknode("n", labels={"kubernetes.io/arch": "amd64"})) == (
        "node selector kubernetes.io/arch=arm64 does not match (node has amd64)"
    )
    assert (
        static_fit(arm, mknode("n"))
        == "node selector kubernetes.io/arch=arm64 does not match (node has no such label)"
    )
    tainted = mknode("n", taints=(Taint("dedicated", "gpu", "NoSchedule"),))
    assert static_fit(mkpod("p"), tainted) == "untolerated taint dedicated=gpu:NoSchedule"
    assert (
        static_fit(mkpod("p", extra={"nvidia.com/gpu": 1}), node)
        == "needs 1 nvidia.com/gpu, node allocatable is 0"
    )
    assert static_fit(mkpod("p"), mknode("n", pods=0)) == "node allows only 0 pods"
    two = static_fit(mkpod("p", cpu=5000, mem_gib=32), node)
    assert two == "needs 5000m cpu, node allocatable is 3920m; needs 32GiB memory, node allocatable is 15GiB"


def test_static_fit_affinity_reasons() -> None:
    node = mknode("n", "us-east-1a")
    zone = mkpod("p", node_affinity=(term(req("topology.kubernetes.io/zone", "In", "us-east-1b")),))
    assert static_fit(zone, node) == (
        "node affinity does not match (topology.kubernetes.io/zone In (us-east-1b), node has us-east-1a)"
    )
    two = mkpod("p", node_affinity=(term(req("a", "Exists")), term(req("b", "Exists"))))
    assert static_fit(two, node) == "node affinity does not match (none of its 2 terms)"
    bad = mkpod("p", node_affinity=(term(req("a", "Gt", "x")),))
    assert (
        static_fit(bad, node) == "node affinity term is invalid (bad operator or values) and selects no node"
    )
    assert "selects no node" in (static_fit(mkpod("p", node_affinity=(term(),)), node) or "")


def test_cordoned_node_takes_only_pods_tolerating_unschedulable() -> None:
    cordoned = mknode("n", unschedulable=True)
    assert static_fit(mkpod("p"), cordoned) == "node is cordoned"
    ds = mkpod("ds", tolerations=(Toleration(UNSCHEDULABLE_TAINT.key, "Exists", "", "NoSchedule"),))
    assert static_fit(ds, cordoned) is None
    assert static_fit(mkpod("p", tolerations=(Toleration(operator="Exists"),)), cordoned) is None


def test_static_fit_order_follows_the_scheduler() -> None:
    node = mknode("n", cpu=100, taints=(Taint("t", "", "NoSchedule"),), unschedulable=True)
    assert static_fit(mkpod("p", cpu=6000, node_selector={"x": "y"}), node) == "node is cordoned"


# --- formatting ------------------------------------------------------------------------------------


def test_formatting() -> None:
    assert format_amount("cpu", 1500) == "1500m"
    assert format_amount("memory", 3 * GIB // 2) == "1.5GiB"
    assert format_amount("memory", 512 * 1024**2) == "512MiB"
    assert format_amount("nvidia.com/gpu", 2) == "2"
    assert format_taint(Taint("dedicated", "", "NoExecute")) == "dedicated:NoExecute"
    selector = LabelSelector((("app", "web"),), sel_expr("tier", "In", "a", "b").match_expressions)
    assert format_selector(selector) == "app=web,tier in (a, b)"
    assert format_selector(sel_expr("canary", "DoesNotExist")) == "!canary"
    assert format_selector(LabelSelector()) == "<all>"
