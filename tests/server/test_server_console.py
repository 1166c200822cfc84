"""The web console over HTTP (TestClient): sign-in, sessions, CSRF, the pages, the policies editor."""

from __future__ import annotations

import re

import pytest
from conftest import Platform

from kube_objects import node_json
from rightsizing_objects import OPT_IN, deployment, namespace, pod, replicaset, usage

AGENT = "/v1/agent/clusters"


def _pod(name: str, cpu: str, node: str | None) -> dict[str, object]:
    spec: dict[str, object] = {
        "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]
    }
    if node:
        spec["nodeName"] = node
    owner = {"kind": "ReplicaSet", "name": "web-rs", "controller": True, "apiVersion": "apps/v1", "uid": "u"}
    meta = {"name": name, "namespace": "shop", "ownerReferences": [owner]}
    status = {"phase": "Running" if node else "Pending"}
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": status}


def _with_snapshot(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    items = [node_json("n1"), node_json("n2"), _pod("web-a", "300m", "n1"), _pod("huge", "64", None)]
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/snapshot", json={"sequence": 1, "items": items}, headers=acme
    )
    assert r.status_code == 200, r.text


def _form_token(platform: Platform) -> str:
    found = re.search(r'name="signin" value="([^"]+)"', platform.client.get("/console/sign-in").text)
    assert found is not None
    return found.group(1)


def _sign_in(platform: Platform, key: dict[str, str]) -> str:
    form = {"api_key": key["X-API-Key"], "signin": _form_token(platform)}
    r = platform.client.post("/console/sign-in", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/clusters", r.text
    return r.headers["set-cookie"]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_sign_in_sets_a_strict_http_only_cookie_and_bad_keys_say_why(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    cookie = _sign_in(platform, acme)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert acme["X-API-Key"] not in cookie  # the browser holds a session token, never the key
    platform.client.cookies.clear()
    forged = platform.client.post("/console/sign-in", data={"api_key": acme["X-API-Key"], "signin": "x"})
    assert forged.status_code == 403 and "came from elsewhere" in forged.text  # login CSRF
    bad = platform.client.post(
        "/console/sign-in", data={"api_key": "kw_0123456789abcdef_nope", "signin": _form_token(platform)}
    )
    assert bad.status_code == 401 and "invalid API key" in bad.text
    agent = platform.new_key("acme", "agent", cluster_id)
    refused = platform.client.post(
        "/console/sign-in", data={"api_key": agent["X-API-Key"], "signin": _form_token(platform)}
    )
    assert refused.status_code == 403 and "agent keys cannot sign in" in refused.text
    away = platform.client.get("/console/clusters", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/console/sign-in"  # never signed in
    platform.client.cookies.set("kubewise_session", "no-such-session", path="/console")
    ended = platform.client.get("/console/clusters", follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"] == "/console/sign-in?ended=1"


def test_the_clusters_and_the_cluster_page_show_status_cost_savings_nodes_and_pending_pods(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _with_snapshot(platform, acme, cluster_id)
    _sign_in(platform, acme)
    listing = platform.client.get("/console/clusters")
    assert (
        listing.status_code == 200
        and "prod" in listing.text
        and f"/console/clusters/{cluster_id}" in listing.text
    )
    assert "Connected" in listing.text and "%" not in listing.text  # no view planned yet: no figures
    loop = platform.client.app.state.autoscaler  # type: ignore[attr-defined]
    assert loop.refresh_views() == 1 and loop.refresh_views() == 0  # planned once, until it changes
    listing = platform.client.get("/console/clusters")
    assert "$" in listing.text and "%" in listing.text
    page = platform.client.get(f"/console/clusters/{cluster_id}")
    assert page.status_code == 200
    assert "<svg" in page.text and "Optimized (on-demand)" in page.text and "lower bound" in page.text
    assert "n1" in page.text and "n2" in page.text and "0.30 / 1.93" in page.text  # requested / allocatable
    assert "shop/huge" in page.text  # pending, with the planner's reason
    assert 'for="evictor.enabled"' in page.text  # every policy has its label


def test_policies_are_changed_with_the_csrf_token_and_validated_as_the_api_does(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _sign_in(platform, acme)
    page = platform.client.get(f"/console/clusters/{cluster_id}")
    csrf = _csrf(page.text)
    form = {
        "csrf": csrf,
        "enabled": "on",
        "evictor.enabled": "on",
        "evictor.cycleInterval": "120",
        "nodeDownscaler.emptyNodes.delaySeconds": "300",
        "clusterLimits.cpu.minCores": "1",
        "clusterLimits.cpu.maxCores": "64",
        "spotInstances.spotDiversityPriceIncreaseLimitPercent": "20",
        "spotInstances.spotBackups.spotBackupRestoreRateSeconds": "1800",
    }
    forged = platform.client.post(f"/console/clusters/{cluster_id}/policies", data={**form, "csrf": "x"})
    assert forged.status_code == 403 and "reload the page" in forged.text
    bad = platform.client.post(
        f"/console/clusters/{cluster_id}/policies", data={**form, "evictor.cycleInterval": "5"}
    )
    assert bad.status_code == 422 and "Evictor runs every (seconds)" in bad.text
    unordered = platform.client.post(
        f"/console/clusters/{cluster_id}/policies", data={**form, "clusterLimits.cpu.minCores": "99"}
    )
    assert unordered.status_code == 422 and "must not exceed" in unordered.text
    saved = platform.client.post(
        f"/console/clusters/{cluster_id}/policies", data=form, follow_redirects=False
    )
    assert saved.status_code == 303
    doc = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/policies", headers=acme).json()
    assert doc["enabled"] is True and doc["evictor"] == {
        "enabled": True,
        "aggressiveMode": False,
        "cycleInterval": 120,
    }
    assert doc["spotInstances"]["enabled"] is False  # an unticked box is off


def test_read_keys_look_only_other_orgs_see_nothing_and_sessions_end(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    reader = platform.new_key("acme", "read")
    _sign_in(platform, reader)
    page = platform.client.get(f"/console/clusters/{cluster_id}")
    assert page.status_code == 200 and "can look, not change" in page.text
    denied = platform.client.post(
        f"/console/clusters/{cluster_id}/policies", data={"csrf": _csrf(page.text), "enabled": "on"}
    )
    assert denied.status_code == 403 and "scope; this call needs a" in denied.text
    other = platform.new_org("globex")
    platform.client.cookies.clear()
    _sign_in(platform, other)
    assert platform.client.get(f"/console/clusters/{cluster_id}").status_code == 404
    assert "prod" not in platform.client.get("/console/clusters").text
    csrf = _csrf(platform.client.get("/console/clusters").text)
    out = platform.client.post("/console/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert platform.client.get("/console/clusters", follow_redirects=False).status_code == 303


def test_the_connect_page_shows_the_exact_command_for_this_server(
    platform: Platform, acme: dict[str, str]
) -> None:
    _sign_in(platform, acme)
    page = platform.client.get("/console/connect")
    assert page.status_code == 200
    assert "kubewise connect --provider eks --server http://testserver --api-key" in page.text
    assert "| kubectl apply -f -" in page.text and "--provider gke" in page.text


def test_pages_forbid_framing_scripts_and_caching(platform: Platform, acme: dict[str, str]) -> None:
    page = platform.client.get("/console/sign-in")
    policy = page.headers["content-security-policy"]
    assert (
        "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "script-src" not in policy
    )
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


def test_a_changed_cluster_is_planned_again_after_five_minutes(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    _with_snapshot(platform, acme, cluster_id)
    loop = platform.client.app.state.autoscaler  # type: ignore[attr-defined]
    assert loop.refresh_views() == 1
    delta = {"sequence": 2, "changes": [{"op": "upsert", "object": node_json("n3")}]}
    assert platform.client.post(f"{AGENT}/{cluster_id}/deltas", json=delta, headers=acme).status_code == 200
    assert loop.refresh_views() == 0  # changed, but planned less than 5 minutes ago
    platform.clock.advance(301)
    assert loop.refresh_views() == 1
    _sign_in(platform, acme)
    assert "n3" in platform.client.get(f"/console/clusters/{cluster_id}").text


def test_a_big_cluster_never_planned_is_left_to_the_loop_unless_there_is_none(
    platform: Platform, acme: dict[str, str], cluster_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubewise.server.db.engine import transaction
    from kubewise.server.db.tables import ClusterRow
    from kubewise.server.services import cluster_views

    _with_snapshot(platform, acme, cluster_id)
    monkeypatch.setattr(cluster_views, "PLAN_INLINE_OBJECTS", 1)  # this cluster counts as big
    sessions = platform.client.app.state.platform.sessions  # type: ignore[attr-defined]
    with transaction(sessions) as session:
        row = session.get(ClusterRow, cluster_id)
        assert row is not None
        with pytest.raises(cluster_views.BeingPlanned, match="being planned in the background"):
            cluster_views.cluster_view(session, row, platform.clock(), loop_on=True)
        planned = cluster_views.cluster_view(session, row, platform.clock(), loop_on=False)
        assert planned.body["report"]["current"]["nodes"]


def test_the_workloads_page_shows_requests_recommendations_reasons_and_savings(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    items = [
        node_json("n1"),
        namespace("shop", {OPT_IN: "true"}),
        deployment("web"),
        replicaset("web-5d8", "web"),
    ]
    items += [pod("web-5d8-a", ("ReplicaSet", "web-5d8")), deployment("api", annotations={OPT_IN: "false"})]
    r = platform.client.post(
        f"{AGENT}/{cluster_id}/snapshot", json={"sequence": 1, "items": items}, headers=acme
    )
    assert r.status_code == 200, r.text
    policies = {"rightsizing": {"enabled": True, "cpuPercentile": 80}}
    assert (
        platform.client.put(
            f"/v1/kubernetes/clusters/{cluster_id}/policies", json=policies, headers=acme
        ).status_code
        == 200
    )
    for _ in range(26):
        platform.clock.advance(3600)
        report = usage(platform.clock().isoformat(), {"web-5d8-a": (40, 100 * 2**20)})
        assert (
            platform.client.post(f"{AGENT}/{cluster_id}/usage", json=report, headers=acme).status_code == 200
        )
    _sign_in(platform, acme)
    assert (
        f"/console/clusters/{cluster_id}/workloads"
        in platform.client.get(f"/console/clusters/{cluster_id}").text
    )
    page = platform.client.get(f"/console/clusters/{cluster_id}/workloads")
    assert page.status_code == 200 and "script-src" not in page.headers["content-security-policy"]
    assert "<script" not in page.text
    assert "shop/web" in page.text and "1500m →" in page.text and "2048Mi →" in page.text
    assert "recommendation ready" in page.text
    assert "shop/api" in page.text and "opted out" in page.text
    # the console's policy editor has no rightsizing fields: saving it keeps the cluster's
    form = {
        "csrf": _csrf(page.text),
        "evictor.cycleInterval": "300",
        "nodeDownscaler.emptyNodes.delaySeconds": "300",
        "clusterLimits.cpu.minCores": "1",
        "clusterLimits.cpu.maxCores": "20",
        "spotInstances.spotDiversityPriceIncreaseLimitPercent": "20",
        "spotInstances.spotBackups.spotBackupRestoreRateSeconds": "1800",
    }
    saved = platform.client.post(
        f"/console/clusters/{cluster_id}/policies", data=form, follow_redirects=False
    )
    assert saved.status_code == 303
    doc = platform.client.get(f"/v1/kubernetes/clusters/{cluster_id}/policies", headers=acme).json()
    assert doc["rightsizing"]["enabled"] is True and doc["rightsizing"]["cpuPercentile"] == 80
    platform.client.cookies.clear()
    _sign_in(platform, platform.new_org("globex"))
    assert platform.client.get(f"/console/clusters/{cluster_id}/workloads").status_code == 404
    platform.client.cookies.clear()
    away = platform.client.get(f"/console/clusters/{cluster_id}/workloads", follow_redirects=False)
    assert away.status_code == 303
