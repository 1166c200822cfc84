"""Schemathesis against the app's own OpenAPI document: no generated request gets a 5xx.

Every call carries a valid full key, so the requests get past authentication into validation and the
services; generated path ids mostly name no cluster, and a registered cluster's id is mixed in.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from kubewise.server.app import create_app, utc_now
from kubewise.server.db.engine import transaction
from kubewise.server.services.identity import create_api_key, create_org
from kubewise.server.settings import ServerSettings


def test_no_generated_request_gets_a_server_error(tmp_path: Path) -> None:
    app = create_app(
        ServerSettings(database_url=f"sqlite:///{tmp_path / 'kubewise.db'}", max_body_bytes=1 << 20)
    )
    with transaction(app.state.platform.sessions) as session:
        create_org(session, "fuzz", utc_now())
        _, key = create_api_key(session, "fuzz", "full", utc_now())
    headers = {"X-API-Key": key}
    body = {"eks": {"accountId": "1", "region": "us-east-1", "clusterName": "c"}}
    with TestClient(app) as client:
        assert client.post("/v1/kubernetes/external-clusters", json=body, headers=headers).status_code == 201
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    seen: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            seen.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
                )

        call()
    assert operations >= 14
    assert failures == []
    assert len(seen) > 10 * operations and {200, 404, 422} <= set(seen)  # it reached the services
