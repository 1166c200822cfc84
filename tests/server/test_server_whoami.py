"""`GET /v1/version`, `GET /v1/auth/whoami`, and the controller's version recorded per cluster."""

from __future__ import annotations

import httpx
from conftest import Platform

from kubewise import __version__
from kubewise.controller.platform import ControllerPlatform
from kubewise.server.db.engine import transaction
from kubewise.server.services.identity import revoke_api_key

WHOAMI = "/v1/auth/whoami"
CLUSTERS = "/v1/kubernetes/external-clusters"


def test_version_needs_no_key(platform: Platform) -> None:
    r = platform.client.get("/v1/version")
    assert r.status_code == 200 and r.json() == {"version": __version__}


def test_whoami_describes_full_read_and_agent_keys(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    full = platform.client.get(WHOAMI, headers=acme)
    assert full.status_code == 200, full.text
    body = full.json()
    assert set(body) == {"organizationId", "scope", "clusterId", "keyId"}
    assert body["scope"] == "full" and body["clusterId"] is None
    assert body["keyId"] == acme["X-API-Key"].split("_")[1]
    cluster = platform.client.get(f"{CLUSTERS}/{cluster_id}", headers=acme).json()
    assert body["organizationId"] == cluster["organizationId"]
    read = platform.client.get(WHOAMI, headers=platform.new_key("acme", "read")).json()
    assert read["scope"] == "read" and read["organizationId"] == body["organizationId"]
    agent_key = platform.new_key("acme", "agent", cluster_id)
    agent = platform.client.get(WHOAMI, headers=agent_key).json()
    assert agent["scope"] == "agent" and agent["clusterId"] == cluster_id
    secret = agent_key["X-API-Key"].split("_", 2)[2]
    assert secret not in str(agent)  # the key's id is shown, never its secret


def test_whoami_with_an_invalid_missing_or_revoked_key_is_the_usual_401(
    platform: Platform, acme: dict[str, str]
) -> None:
    for headers in ({}, {"X-API-Key": "kw_0123456789abcdef_nope"}, {"X-API-Key": "junk"}):
        r = platform.client.get(WHOAMI, headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized", headers
    sessions = platform.client.app.state.platform.sessions  # type: ignore[attr-defined]
    with transaction(sessions) as session:
        revoke_api_key(session, "acme", acme["X-API-Key"].split("_")[1], platform.clock())
    r = platform.client.get(WHOAMI, headers=acme)
    assert r.status_code == 401 and "revoked" in r.json()["message"]


def _view(platform: Platform, acme: dict[str, str], cluster_id: str) -> dict[str, object]:
    r = platform.client.get(f"{CLUSTERS}/{cluster_id}", headers=acme)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_controllers_version_and_last_call_show_in_the_cluster_view(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    before = _view(platform, acme, cluster_id)
    assert before["controllerVersion"] is None and before["controllerLastSeenAt"] is None
    agent = platform.new_key("acme", "agent", cluster_id)
    poll = f"/v1/controller/clusters/{cluster_id}/actions"
    first = platform.clock()
    assert platform.client.get(poll, headers=agent | {"X-Kubewise-Version": "0.0.9"}).status_code == 200
    view = _view(platform, acme, cluster_id)
    assert view["controllerVersion"] == "0.0.9"
    assert view["controllerLastSeenAt"] == first.isoformat().replace("+00:00", "Z")
    platform.clock.advance(10)  # polled every few seconds: the time is kept to the minute
    platform.client.get(poll, headers=agent | {"X-Kubewise-Version": "0.0.9"})
    assert _view(platform, acme, cluster_id)["controllerLastSeenAt"] == view["controllerLastSeenAt"]
    platform.client.get(poll, headers=agent | {"X-Kubewise-Version": __version__})  # upgraded: at once
    upgraded = _view(platform, acme, cluster_id)
    assert upgraded["controllerVersion"] == __version__
    assert upgraded["controllerLastSeenAt"] != view["controllerLastSeenAt"]
    platform.clock.advance(120)
    platform.client.get(poll, headers=agent)  # no header (an old controller): the version stays
    later = _view(platform, acme, cluster_id)
    assert later["controllerVersion"] == __version__
    assert later["controllerLastSeenAt"] == platform.clock().isoformat().replace("+00:00", "Z")


def test_a_read_key_on_the_controller_api_records_nothing(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    read = platform.new_key("acme", "read")
    r = platform.client.get(
        f"/v1/controller/clusters/{cluster_id}/actions", headers=read | {"X-Kubewise-Version": "9"}
    )
    assert r.status_code == 403
    assert _view(platform, acme, cluster_id)["controllerVersion"] is None


def test_the_controller_sends_its_version_on_every_call() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": []})

    client = ControllerPlatform("http://platform", "kw_key", "c1", transport=httpx.MockTransport(answer))
    client.pending()
    client.spot_prices({"m5.large": 0.04})
    client.close()
    assert [r.headers["X-Kubewise-Version"] for r in seen] == [__version__, __version__]
