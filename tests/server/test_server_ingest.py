"""Agent ingest: snapshots, ordered deltas (retry: no-op, gap: resync), all-or-nothing, gzip, limits."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from typing import Any

from conftest import Platform

AGENT = "/v1/agent/clusters"


def _example_items() -> list[dict[str, Any]]:
    text = (resources.files("kubewise.examples") / "eks-us-east-1.json").read_text()
    return list(json.loads(text)["items"])


def _ns(name: str) -> dict[str, Any]:
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name}}


def _pod(name: str, cpu: str = "100m") -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]},
        "status": {"phase": "Pending"},
    }


def _pods(platform: Platform, headers: dict[str, str], cluster_id: str) -> int:
    cost = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/savings", headers=headers).json()
    return int(cost["pods"]["movable"]) if "movable" in cost["pods"] else sum(cost["pods"].values())


def _snapshot(platform: Platform, headers: dict[str, str], cluster_id: str, items: list, seq: int = 1) -> Any:
    return platform.client.post(
        f"{AGENT}/{cluster_id}/snapshot", json={"sequence": seq, "items": items}, headers=headers
    )


def test_snapshot_then_heartbeat_needs_no_resync(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    r = _snapshot(platform, acme, cluster_id, _example_items())
    assert r.status_code == 200 and r.json()["sequence"] == 1 and r.json()["objects"] > 100
    beat = platform.client.post(f"{AGENT}/{cluster_id}/heartbeat", json={}, headers=acme).json()
    assert beat == {"status": "Connected", "resync": False}
    view = platform.client.get(f"/v1/kubernetes/external-clusters/{cluster_id}", headers=acme).json()
    assert view["agentSnapshotReceivedAt"] is not None


def test_malformed_snapshot_is_422_naming_the_object_and_stores_nothing(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    assert _snapshot(platform, acme, cluster_id, [_ns("default"), _pod("a")]).status_code == 200
    bad = _pod("b", cpu="lots")
    r = _snapshot(platform, acme, cluster_id, [_ns("default"), _pod("c"), bad], seq=5)
    assert r.status_code == 422
    assert r.json()["fieldViolations"][0]["field"] == "items[2]"
    assert "cpu" in r.json()["message"]
    for items, field in [
        ([{"kind": "Pod", "metadata": {}}], "items[0].metadata.name"),
        ([{"kind": "Secret", "metadata": {"name": "s"}}], "items[0].kind"),
        ([_pod("a"), _pod("a")], "items[1]"),
        ([_pod("x" * 254)], "items[0].metadata.name"),
    ]:
        r = _snapshot(platform, acme, cluster_id, items, seq=6)
        assert r.status_code == 422 and r.json()["fieldViolations"][0]["field"] == field
    # still the first snapshot: sequence 1 and pod a only
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/deltas", json={"sequence": 2, "changes": []}, headers=acme
    )
    assert r.status_code == 200 and r.json()["applied"]
    cost = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/savings", headers=acme).json()
    names = [p for plan in cost["plans"][:1] for n in plan["nodes"] for p in n["pods"]]
    assert names == ["default/a"]


def test_deltas_apply_in_order_retry_is_a_no_op_gap_asks_for_resync(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    deltas = f"{AGENT}/{cluster_id}/deltas"
    r = platform.client.post(deltas, json={"sequence": 1, "changes": []}, headers=acme)
    assert r.status_code == 409 and r.json()["resync"] is True  # no snapshot yet
    _snapshot(platform, acme, cluster_id, [_ns("default"), _pod("a")], seq=10)
    d11 = {
        "sequence": 11,
        "changes": [{"op": "upsert", "object": _pod("b")}, {"op": "delete", "object": _pod("a")}],
    }
    assert platform.client.post(deltas, json=d11, headers=acme).json() == {
        "sequence": 11,
        "applied": True,
        "duplicate": False,
    }
    assert platform.client.post(deltas, json=d11, headers=acme).json() == {
        "sequence": 11,
        "applied": False,
        "duplicate": True,
    }
    r = platform.client.post(
        deltas, json={"sequence": 13, "changes": [{"op": "upsert", "object": _pod("z")}]}, headers=acme
    )
    assert r.status_code == 409 and r.json()["resync"] is True and r.json()["code"] == "resync_required"
    plan = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/savings", headers=acme).json()["plans"][
        0
    ]
    assert [p for n in plan["nodes"] for p in n["pods"]] == ["default/b"]


def test_a_delta_with_one_bad_object_changes_nothing(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    deltas = f"{AGENT}/{cluster_id}/deltas"
    _snapshot(platform, acme, cluster_id, [_ns("default"), _pod("a")])
    bad = {
        "sequence": 2,
        "changes": [{"op": "upsert", "object": _pod("b")}, {"op": "upsert", "object": _pod("c", "-1x")}],
    }
    r = platform.client.post(deltas, json=bad, headers=acme)
    assert r.status_code == 422 and r.json()["fieldViolations"][0]["field"] == "changes[1].object"
    good = {"sequence": 2, "changes": [{"op": "upsert", "object": _pod("d")}]}
    assert platform.client.post(deltas, json=good, headers=acme).json()["applied"] is True
    plan = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/savings", headers=acme).json()["plans"][
        0
    ]
    assert sorted(p for n in plan["nodes"] for p in n["pods"]) == ["default/a", "default/d"]


def test_reconnect_makes_the_agent_resend_a_snapshot(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _snapshot(platform, acme, cluster_id, [_ns("default")])
    platform.clock.advance(4000)
    platform.client.post(f"/v1/kubernetes/external-clusters/{cluster_id}/reconnect", headers=acme)
    beat = platform.client.post(f"{AGENT}/{cluster_id}/heartbeat", json={}, headers=acme).json()
    assert beat == {"status": "Connected", "resync": True}
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/deltas", json={"sequence": 2, "changes": []}, headers=acme
    )
    assert r.status_code == 409 and r.json()["resync"] is True


def test_gzip_bodies_and_size_limits(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    url = f"{AGENT}/{cluster_id}/snapshot"
    raw = json.dumps({"sequence": 1, "items": _example_items()}).encode()
    headers = {**acme, "Content-Encoding": "gzip", "Content-Type": "application/json"}
    r = platform.client.post(url, content=gzip.compress(raw), headers=headers)
    assert r.status_code == 200, r.text
    bomb = gzip.compress(
        b'{"sequence": 1, "items": [' + b" " * (5 * 1024 * 1024) + b"]}"
    )  # 4 MiB limit in tests
    r = platform.client.post(url, content=bomb, headers=headers)
    assert r.status_code == 413 and "decompressed" in r.json()["message"]
    r = platform.client.post(
        url, content=b"x" * (4 * 1024 * 1024 + 1), headers={**acme, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    r = platform.client.post(url, content=b"not gzip", headers=headers)
    assert r.status_code == 422 and "gzip" in r.json()["message"]
    r = platform.client.post(url, content=b"{nope", headers={**acme, "Content-Type": "application/json"})
    assert r.status_code == 422 and "not JSON" in r.json()["message"]
    r = platform.client.post(
        url, content=b'{"sequence": -1, "items": []}', headers={**acme, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["fieldViolations"][0]["field"] == "sequence"


def _planned(platform: Platform, headers: dict[str, str], cluster_id: str) -> list[str]:
    plan = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/savings", headers=headers).json()
    first = plan["plans"][0]
    return sorted([p for n in first["nodes"] for p in n["pods"]] + [u["pod"] for u in first["unschedulable"]])


def _page(
    platform: Platform, headers: dict[str, str], cluster_id: str, seq: int, page: int, items: list, last: bool
) -> Any:
    body = {"sequence": seq, "items": items, "page": page, "last": last}
    return platform.client.post(f"{AGENT}/{cluster_id}/snapshot", json=body, headers=headers)


def test_a_paged_snapshot_replaces_everything_when_its_last_page_arrives(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _snapshot(platform, acme, cluster_id, [_ns("default"), _pod("old")], seq=1)
    r = _page(platform, acme, cluster_id, 5, 0, [_ns("default"), _pod("a")], last=False)
    assert r.status_code == 200 and r.json() == {"sequence": 5, "page": 0, "staged": 2}
    assert _page(platform, acme, cluster_id, 5, 1, [_pod("b")], last=False).status_code == 200
    assert _planned(platform, acme, cluster_id) == [
        "default/old"
    ]  # the previous snapshot until the last page
    retry = _page(platform, acme, cluster_id, 5, 1, [_pod("b")], last=False)
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    done = _page(platform, acme, cluster_id, 5, 2, [_pod("c")], last=True)
    assert done.status_code == 200 and done.json() == {"sequence": 5, "objects": 4}
    assert _planned(platform, acme, cluster_id) == ["default/a", "default/b", "default/c"]
    again = _page(platform, acme, cluster_id, 5, 2, [_pod("c")], last=True)  # the last page's retry
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert _planned(platform, acme, cluster_id) == ["default/a", "default/b", "default/c"]
    d = {"sequence": 6, "changes": [{"op": "delete", "object": _pod("a")}]}  # deltas go on from it
    assert platform.client.post(f"{AGENT}/{cluster_id}/deltas", json=d, headers=acme).json()["applied"]
    assert _planned(platform, acme, cluster_id) == ["default/b", "default/c"]


def test_paged_snapshot_out_of_order_or_repeating_an_object_stores_nothing_new(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _snapshot(platform, acme, cluster_id, [_ns("default"), _pod("old")], seq=1)
    orphan = _page(platform, acme, cluster_id, 7, 1, [_pod("x")], last=True)  # no page 0
    assert (
        orphan.status_code == 409
        and orphan.json()["resync"] is True
        and "from page 0" in orphan.json()["message"]
    )
    assert _page(platform, acme, cluster_id, 7, 0, [_ns("default"), _pod("a")], last=False).status_code == 200
    gap = _page(platform, acme, cluster_id, 7, 2, [_pod("x")], last=True)
    assert gap.status_code == 409 and "does not follow page 0" in gap.json()["message"]
    other = _page(platform, acme, cluster_id, 8, 1, [_pod("x")], last=True)  # a page of another snapshot
    assert other.status_code == 409
    repeat = _page(platform, acme, cluster_id, 7, 1, [_pod("a")], last=True)
    assert repeat.status_code == 422 and "came in an earlier page" in repeat.json()["message"]
    assert _planned(platform, acme, cluster_id) == ["default/old"]
    # page 0 starts afresh: what was staged before is dropped
    assert _page(platform, acme, cluster_id, 9, 0, [_ns("default"), _pod("n")], last=False).status_code == 200
    assert _page(platform, acme, cluster_id, 9, 1, [_pod("a")], last=True).status_code == 200
    assert _planned(platform, acme, cluster_id) == ["default/a", "default/n"]
    beat = platform.client.post(f"{AGENT}/{cluster_id}/heartbeat", json={}, headers=acme).json()
    assert beat["resync"] is False
