"""NodeSet: how many pods each node may take, and changes that can be taken back exactly."""

from __future__ import annotations

import numpy as np
from opt_helpers import assert_consistent, problem

from builders import catalog, hostname_anti_affinity, itype, pod, zone_spread
from kubewise.optimizer.demand import ANY_ZONE

CAT = catalog(itype("m.xlarge", 4, 16, 0.20), itype("m.2xlarge", 8, 32, 0.40))


def test_room_counts_pods_by_the_tightest_resource() -> None:
    p = problem([pod(f"w-{i}", 1000, 1, app="w") for i in range(20)], CAT)
    ns = p.node_set()
    nodes = ns.open(p.cand("m.xlarge"), np.array([0]))
    room = p.cs.room[p.cand("m.xlarge")]
    cpu = p.cs.resources.index("cpu")
    assert ns.room_for(0, nodes).tolist() == [room[cpu] // 1000]
    ns.place(0, nodes, np.array([2]))
    assert ns.room_for(0, nodes).tolist() == [room[cpu] // 1000 - 2]
    assert_consistent(ns)


def test_self_anti_affinity_allows_one_pod_per_node() -> None:
    pods = [
        pod(f"db-{i}", 100, 0.1, app="db", pod_anti_affinity=hostname_anti_affinity("db")) for i in range(3)
    ]
    p = problem(pods, CAT)
    ns = p.node_set()
    nodes = ns.open(p.cand("m.2xlarge"), np.array([0, 0]))
    assert ns.room_for(0, nodes).tolist() == [1, 1]
    ns.place(0, nodes[:1], np.array([1]))
    assert ns.room_for(0, nodes).tolist() == [0, 1]


def test_conflicting_classes_do_not_share_a_node() -> None:
    anti_db = hostname_anti_affinity("db")
    pods = [pod("db-0", 100, 0.1, app="db"), pod("web-0", 100, 0.1, app="web", pod_anti_affinity=anti_db)]
    p = problem(pods, CAT)
    ns = p.node_set()
    node = ns.open(p.cand("m.2xlarge"), np.array([0]))
    db = next(r for r in range(len(p.rows)) if p.rows.pods[r][0].name == "db-0")
    web = 1 - db
    assert ns.room_for(web, node).tolist() != [0]
    ns.place(db, node, np.array([1]))
    assert ns.room_for(web, node).tolist() == [0]


def test_rows_pinned_to_a_zone_only_fit_nodes_there() -> None:
    zones = ("z1", "z2")
    pods = [pod(f"api-{i}", 500, 1, app="api", topology_spread=zone_spread("api")) for i in range(4)]
    p = problem(pods, CAT, zones)
    pinned = [r for r in range(len(p.rows)) if p.rows.zone[r] != ANY_ZONE]
    assert len(pinned) == 2
    ns = p.node_set()
    nodes = ns.open(p.cand("m.xlarge"), np.array([0, 1]))
    for r in pinned:
        room = ns.room_for(r, nodes)
        assert (room > 0).tolist() == [z == p.rows.zone[r] for z in (0, 1)]


def test_close_reopen_and_undo_restore_the_same_state() -> None:
    p = problem([pod(f"w-{i}", 700, 3, app="w") for i in range(6)], CAT)
    ns = p.node_set()
    a, b = ns.open(p.cand("m.2xlarge"), np.array([0, 0])).tolist()
    ns.place(0, np.array([a]), np.array([3]))
    before = (ns.free.copy(), [dict(c) for c in ns.contents])
    held = ns.close(a)
    assert held == {0: 3} and not ns.alive[a]
    ns.start_journal()
    ns.place(0, np.array([b]), np.array([3]))
    ns.undo_journal()
    ns.reopen(a, held)
    assert (ns.free == before[0]).all() and ns.contents == before[1]
    assert_consistent(ns)


def test_room_on_agrees_with_room_for() -> None:
    anti = hostname_anti_affinity("db")
    pods = [pod(f"db-{i}", 100, 0.1, app="db", pod_anti_affinity=anti) for i in range(3)]
    pods += [pod(f"w-{i}", 700, 1, app="w") for i in range(5)]
    p = problem(pods, CAT)
    ns = p.node_set()
    nodes = ns.open(p.cand("m.2xlarge"), np.array([0, 0]))
    ns.place(0, nodes[:1], np.array([1]))
    rows = np.arange(len(p.rows), dtype=np.int64)
    for i in nodes.tolist():
        assert ns.room_on(i, rows).tolist() == [int(ns.room_for(r, np.array([i]))[0]) for r in rows.tolist()]
