"""Cluster policies: safe defaults, whole-document PUT, validation with clear errors."""

from __future__ import annotations

from conftest import Platform


def _url(cluster_id: str) -> str:
    return f"/v1/kubernetes/clusters/{cluster_id}/policies"


def test_defaults_keep_automation_off(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    doc = platform.client.get(_url(cluster_id), headers=acme).json()
    assert doc["enabled"] is False
    assert doc["unschedulablePods"]["enabled"] is False and doc["nodeDownscaler"]["enabled"] is False
    assert doc["evictor"]["aggressiveMode"] is False and doc["spotInstances"]["enabled"] is False
    assert doc["clusterLimits"]["cpu"]["minCores"] <= doc["clusterLimits"]["cpu"]["maxCores"]


def test_put_replaces_the_document(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    body = {
        "enabled": True,
        "unschedulablePods": {"enabled": True},
        "nodeDownscaler": {"enabled": True, "emptyNodes": {"enabled": True, "delaySeconds": 120}},
        "clusterLimits": {"enabled": True, "cpu": {"minCores": 4, "maxCores": 64}},
        "spotInstances": {
            "enabled": True,
            "spotDiversityEnabled": True,
            "spotDiversityPriceIncreaseLimitPercent": 25,
        },
        "evictor": {"enabled": True, "cycleInterval": 600},
    }
    r = platform.client.put(_url(cluster_id), json=body, headers=acme)
    assert r.status_code == 200
    got = platform.client.get(_url(cluster_id), headers=acme).json()
    assert got == r.json()
    assert got["nodeDownscaler"]["emptyNodes"]["delaySeconds"] == 120
    assert got["spotInstances"]["spotDiversityPriceIncreaseLimitPercent"] == 25
    assert got["spotInstances"]["spotBackups"]["enabled"] is False  # left out: default
    assert got["evictor"] == {"enabled": True, "aggressiveMode": False, "cycleInterval": 600}
    platform.client.put(_url(cluster_id), json={"enabled": False}, headers=acme)
    assert platform.client.get(_url(cluster_id), headers=acme).json()["clusterLimits"]["enabled"] is False


def test_invalid_policies_are_422_and_change_nothing(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    platform.client.put(_url(cluster_id), json={"enabled": True}, headers=acme)
    cases = [
        ({"clusterLimits": {"cpu": {"minCores": 30, "maxCores": 10}}}, "clusterLimits", "must not exceed"),
        (
            {"nodeDownscaler": {"emptyNodes": {"delaySeconds": -1}}},
            "nodeDownscaler.emptyNodes.delaySeconds",
            "",
        ),
        ({"evictor": {"cycleInterval": 1}}, "evictor.cycleInterval", ""),
        (
            {"spotInstances": {"spotDiversityPriceIncreaseLimitPercent": -5}},
            "spotInstances.spotDiversityPriceIncreaseLimitPercent",
            "",
        ),
        ({"autoscaler": True}, "autoscaler", ""),
        ({"enabled": "sometimes"}, "enabled", ""),
    ]
    for body, field, words in cases:
        r = platform.client.put(_url(cluster_id), json=body, headers=acme)
        assert r.status_code == 422, body
        assert r.json()["fieldViolations"][0]["field"] == field
        assert words in r.json()["message"]
    assert platform.client.get(_url(cluster_id), headers=acme).json()["enabled"] is True
