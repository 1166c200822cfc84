"""`POST /v1/agent/clusters/{id}/usage`: samples mapped to workloads and folded into bounded
histograms, OOM kills recorded once, bad reports refused by field, rows of gone workloads pruned."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any

from conftest import Platform
from sqlalchemy import select

from kube_objects import node_json
from kubewise.server.db.engine import transaction
from kubewise.server.db.tables import WorkloadUsageRow
from rightsizing_objects import deployment, namespace, pod, replicaset, usage

AGENT = "/v1/agent/clusters"
GIB = 2**30


def _items(oom_at: str | None = None) -> list[dict[str, Any]]:
    cron = {
        "kind": "CronJob",
        "apiVersion": "batch/v1",
        "metadata": {"name": "nightly", "namespace": "shop"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "app"}]}}}}},
    }
    job = {
        "kind": "Job",
        "apiVersion": "batch/v1",
        "metadata": {
            "name": "nightly-1",
            "namespace": "shop",
            "ownerReferences": [
                {
                    "kind": "CronJob",
                    "name": "nightly",
                    "controller": True,
                    "apiVersion": "batch/v1",
                    "uid": "c",
                }
            ],
        },
    }
    return [
        node_json("n1"),
        namespace("shop"),
        deployment("web"),
        replicaset("web-5d8", "web"),
        pod("web-5d8-a", ("ReplicaSet", "web-5d8"), oom_at=oom_at),
        pod("web-5d8-b", ("ReplicaSet", "web-5d8")),
        deployment("db", kind="StatefulSet"),
        pod("db-0", ("StatefulSet", "db")),
        cron,
        job,
        pod("nightly-1-x", ("Job", "nightly-1")),
        pod("bare", None),
    ]


def _snapshot(platform: Platform, key: dict[str, str], cluster_id: str, items: list[dict[str, Any]]) -> None:
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/snapshot", json={"sequence": 1, "items": items}, headers=key
    )
    assert r.status_code == 200, r.text


def _rows(platform: Platform) -> dict[tuple[str, str, str, str], WorkloadUsageRow]:
    sessions = platform.client.app.state.platform.sessions  # type: ignore[attr-defined]
    with transaction(sessions) as session:
        rows = session.scalars(select(WorkloadUsageRow)).all()
        session.expunge_all()
    return {(r.namespace, r.kind, r.name, r.container): r for r in rows}


def _at(platform: Platform, hours: float = 0) -> str:
    return (platform.clock() + dt.timedelta(hours=hours)).isoformat()


def test_samples_are_folded_per_workload_container_and_bare_pods_skipped(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    agent = platform.new_key("acme", "agent", cluster_id)
    _snapshot(platform, agent, cluster_id, _items())
    report = usage(
        _at(platform),
        {
            "web-5d8-a": (120, 300e6),
            "web-5d8-b": (80, 200e6),
            "db-0": (10, 1e9),
            "nightly-1-x": (5, 1e6),
            "bare": (1, 1),
            "not-in-snapshot": (1, 1),
        },
    )
    body = gzip.compress(json.dumps(report).encode())
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/usage",
        content=body,
        headers={**agent, "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 4, "skipped": 2}
    rows = _rows(platform)
    assert sorted(rows) == [
        ("shop", "CronJob", "nightly", "app"),
        ("shop", "Deployment", "web", "app"),
        ("shop", "StatefulSet", "db", "app"),
    ]
    web = platform.client.get(
        f"/v1/kubernetes/clusters/{cluster_id}/workloads/shop/Deployment/web", headers=acme
    ).json()
    assert web["usage"]["app"]["samples"] == 2  # both pods of the Deployment, one histogram
    assert 80 <= web["usage"]["app"]["cpuP50"] <= 125 and web["usage"]["app"]["oomEvents"] == 0


def test_storage_stays_bounded_however_many_samples(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _snapshot(platform, acme, cluster_id, _items())
    sizes = []
    for i in range(240):
        platform.clock.advance(60)
        report = usage(_at(platform), {"web-5d8-a": (10 + (i * 37) % 4000, (1 + (i * 53) % 900) * 2**20)})
        r = platform.client.post(f"{AGENT}/{cluster_id}/usage", json=report, headers=acme)
        assert r.status_code == 200, r.text
        if i in (119, 239):
            sizes.append(len(json.dumps(_rows(platform)[("shop", "Deployment", "web", "app")].usage)))
    assert len(_rows(platform)) == 1  # one row per workload container, never one per sample
    assert sizes[1] < sizes[0] * 1.5  # twice the samples, not twice the storage


def test_an_oom_kill_is_recorded_once_per_finished_at(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _snapshot(platform, acme, cluster_id, _items(oom_at="2026-01-01T11:30:00Z"))
    path = f"/v1/kubernetes/clusters/{cluster_id}/workloads/shop/Deployment/web"
    for _ in range(3):  # the same kill in every report until the pod is killed again
        platform.clock.advance(60)
        r = platform.client.post(
            f"{AGENT}/{cluster_id}/usage", json=usage(_at(platform), {"web-5d8-a": (100, 1e9)}), headers=acme
        )
        assert r.status_code == 200, r.text
    assert platform.client.get(path, headers=acme).json()["usage"]["app"]["oomEvents"] == 1
    again = pod("web-5d8-a", ("ReplicaSet", "web-5d8"), oom_at="2026-01-01T12:02:00Z")
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/deltas",
        json={"sequence": 2, "changes": [{"op": "upsert", "object": again}]},
        headers=acme,
    )
    assert r.status_code == 200, r.text
    platform.client.post(
        f"{AGENT}/{cluster_id}/usage", json=usage(_at(platform), {"web-5d8-a": (100, 1e9)}), headers=acme
    )
    assert platform.client.get(path, headers=acme).json()["usage"]["app"]["oomEvents"] == 2


def test_bad_reports_are_refused_by_field_and_store_nothing(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _snapshot(platform, acme, cluster_id, _items())
    url = f"{AGENT}/{cluster_id}/usage"
    cases = [
        (usage(_at(platform), {"web-5d8-a": (-1, 5)}), "pods.0.containers"),
        (usage("2026-01-01T12:00:00", {"web-5d8-a": (1, 5)}), "at"),
        (usage(_at(platform, hours=2), {"web-5d8-a": (1, 5)}), "at"),
        (
            {"at": _at(platform), "pods": [{"namespace": "shop", "name": "x", "containers": {"app": [1]}}]},
            "pods",
        ),
    ]
    for body, field in cases:
        r = platform.client.post(url, json=body, headers=acme)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["fieldViolations"][0]["field"].startswith(field), r.text
    big = usage(_at(platform), {f"p{i}": (1.0, 1.0) for i in range(80_000)})
    assert platform.client.post(url, json=big, headers=acme).status_code == 413
    assert _rows(platform) == {}


def test_keys_other_than_the_clusters_agent_or_a_full_key_are_refused(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _snapshot(platform, acme, cluster_id, _items())
    report = usage(_at(platform), {"web-5d8-a": (1, 5)})
    url = f"{AGENT}/{cluster_id}/usage"
    assert platform.client.post(url, json=report, headers=platform.new_key("acme", "read")).status_code == 403
    other = platform.new_org("globex")
    assert platform.client.post(url, json=report, headers=other).status_code == 404
    r = platform.client.post(
        "/v1/kubernetes/external-clusters",
        json={
            "name": "dev",
            "eks": {"accountId": "111122223333", "region": "us-east-1", "clusterName": "dev"},
        },
        headers=acme,
    )
    dev_agent = platform.new_key("acme", "agent", r.json()["id"])
    assert platform.client.post(url, json=report, headers=dev_agent).status_code == 404
    assert platform.client.post(url, json=report).status_code == 401
    assert _rows(platform) == {}


def test_rows_of_workloads_gone_for_eight_days_are_removed(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _snapshot(platform, acme, cluster_id, _items())
    report = usage(_at(platform), {"web-5d8-a": (100, 1e8), "db-0": (10, 1e8)})
    assert platform.client.post(f"{AGENT}/{cluster_id}/usage", json=report, headers=acme).status_code == 200
    gone = {"op": "delete", "object": deployment("web")}
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/deltas", json={"sequence": 2, "changes": [gone]}, headers=acme
    )
    assert r.status_code == 200, r.text
    loop = platform.client.app.state.autoscaler  # type: ignore[attr-defined]
    platform.clock.advance(7 * 86400)
    loop.rightsize()
    assert len(_rows(platform)) == 2  # a week: the Deployment may come back
    platform.clock.advance(1.5 * 86400)
    loop.rightsize()
    assert sorted(_rows(platform)) == [("shop", "StatefulSet", "db", "app")]  # still there: kept
