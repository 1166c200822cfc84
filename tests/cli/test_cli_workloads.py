"""`kubewise workloads list|show|apply` against a real server on loopback."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from kube_objects import node_json
from kubewise.cli.main import app
from live_server import live_server
from rightsizing_objects import OPT_IN, deployment, namespace, pod, replicaset, usage

EKS = {"eks": {"accountId": "111122223333", "region": "us-east-1", "clusterName": "prod"}}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A live server holding a cluster whose opted-in Deployment has 26 h of usage (sent hourly,
    ending now), and a second Deployment not opted in; yields the cluster's id."""
    with live_server(tmp_path) as (url, key):
        monkeypatch.setenv("KUBEWISE_API_URL", url)
        monkeypatch.setenv("KUBEWISE_API_KEY", key)
        headers = {"X-API-Key": key}
        cluster = httpx.post(f"{url}/v1/kubernetes/external-clusters", json=EKS, headers=headers).json()["id"]
        items = [node_json("n1"), namespace("shop"), deployment("web", annotations={OPT_IN: "true"})]
        items += [
            replicaset("web-5d8", "web"),
            pod("web-5d8-a", ("ReplicaSet", "web-5d8")),
            deployment("api"),
        ]
        r = httpx.post(
            f"{url}/v1/agent/clusters/{cluster}/snapshot",
            json={"sequence": 1, "items": items},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        r = httpx.put(
            f"{url}/v1/kubernetes/clusters/{cluster}/policies",
            json={"rightsizing": {"enabled": True}},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        now = dt.datetime.now(dt.UTC)
        for hour in range(26, -1, -1):
            at = (now - dt.timedelta(hours=hour)).isoformat()
            report = usage(at, {"web-5d8-a": (100, 300 * 2**20)})
            assert (
                httpx.post(
                    f"{url}/v1/agent/clusters/{cluster}/usage", json=report, headers=headers
                ).status_code
                == 200
            )
        yield str(cluster)


def _cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["workloads", *args])
    return r.exit_code, r.stdout, r.stderr


def test_list_shows_requests_against_recommendations_and_reasons(env: str) -> None:
    code, out, err = _cli("list", "--cluster-id", env)
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "1500m -> " in lines["shop/Deployment/web"] and "2048Mi -> " in lines["shop/Deployment/web"]
    assert "saves $" in lines["shop/Deployment/web"]
    assert "not opted in" in lines["shop/Deployment/api"] and "off" in lines["shop/Deployment/api"]
    code, out, _ = _cli("list", "--cluster-id", env, "-o", "json")
    items = {w["name"]: w for w in json.loads(out)["items"]}
    assert code == 0 and items["web"]["reason"] is None and items["api"]["optedIn"] is False


def test_show_prints_usage_and_apply_queues_the_change(env: str) -> None:
    code, out, err = _cli("show", "--cluster-id", env, "shop/Deployment/web")
    assert code == 0, err
    assert "Deployment shop/web" in out and "CPU P90" in out and "SAMPLES" in out
    code, out, _ = _cli("show", "--cluster-id", env, "shop/deployment/web", "-o", "json")
    assert code == 0 and json.loads(out)["usage"]["app"]["samples"] == 27
    code, out, err = _cli("apply", "--cluster-id", env, "shop/Deployment/web")
    assert code == 0 and "queued for the cluster controller" in out, err
    code, _, err = _cli("apply", "--cluster-id", env, "shop/Deployment/api")
    assert code == 1 and "409" in err and "not opted in" in err


def test_bad_arguments_are_usage_errors(env: str) -> None:
    code, _, err = _cli("show", "--cluster-id", env, "web")
    assert code == 2 and "NAMESPACE/KIND/NAME" in err
    code, _, err = _cli("list", "--cluster-id", env, "-o", "yaml")
    assert code == 2 and "table or json" in err
    code, _, err = _cli("show", "--cluster-id", env, "shop/Deployment/nope")
    assert code == 1 and "404" in err
