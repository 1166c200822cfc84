"""Health, readiness, metrics, OpenAPI, JSON logs that never carry a key."""

from __future__ import annotations

import json
import logging

import pytest
from conftest import Platform

from kubewise.server.observability import JsonFormatter


def test_health_ready_and_openapi(platform: Platform) -> None:
    assert platform.client.get("/healthz").json() == {"status": "ok"}
    assert platform.client.get("/readyz").json() == {"status": "ok"}
    spec = platform.client.get("/openapi.json").json()
    assert "/v1/kubernetes/external-clusters" in spec["paths"]
    assert "/v1/kubernetes/clusters/{cluster_id}/policies" in spec["paths"]
    assert platform.client.get("/docs").status_code == 200


def test_metrics_count_requests_by_route(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    platform.client.get(f"/v1/kubernetes/external-clusters/{cluster_id}", headers=acme)
    text = platform.client.get("/metrics").text
    route = "/v1/kubernetes/external-clusters/{cluster_id}"
    line = f'kubewise_http_requests_total{{method="GET",route="{route}",status="200"}} 1.0'
    assert line in text
    assert cluster_id not in text


def test_unknown_path_is_a_json_404(platform: Platform) -> None:
    r = platform.client.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_access_log_is_json_without_keys(
    platform: Platform, acme: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="kubewise.server.access"):
        platform.client.get("/v1/kubernetes/external-clusters?x=1", headers=acme)
    records = [r for r in caplog.records if r.name == "kubewise.server.access"]
    assert records
    line = JsonFormatter().format(records[-1])
    doc = json.loads(line)
    assert doc["route"] == "/v1/kubernetes/external-clusters" and doc["status"] == 200
    assert acme["X-API-Key"] not in line and "x=1" not in line
