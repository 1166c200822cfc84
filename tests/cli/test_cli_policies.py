"""`kubewise policies get|set|apply|diff` against a real server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from kubewise.cli.main import app
from live_server import live_server

EKS = {"eks": {"accountId": "111122223333", "region": "us-east-1", "clusterName": "prod"}}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Points the CLI at a live server (env vars, as a user would); yields a registered cluster's id."""
    with live_server(tmp_path) as (url, key):
        monkeypatch.setenv("KUBEWISE_API_URL", url)
        monkeypatch.setenv("KUBEWISE_API_KEY", key)
        r = httpx.post(f"{url}/v1/kubernetes/external-clusters", json=EKS, headers={"X-API-Key": key})
        yield str(r.json()["id"])


def _cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["policies", *args])
    return r.exit_code, r.stdout, r.stderr


def test_get_set_and_get_again(env: str) -> None:
    code, out, _ = _cli("get", "--cluster", env)
    assert code == 0 and yaml.safe_load(out)["nodeDownscaler"]["enabled"] is False
    code, out, _ = _cli("set", "--cluster", env, "nodeDownscaler.enabled=true", "evictor.cycleInterval=900")
    assert code == 0, out
    code, out, _ = _cli("get", "--cluster", env, "-o", "json")
    doc = yaml.safe_load(out)
    assert doc["nodeDownscaler"]["enabled"] is True and doc["evictor"]["cycleInterval"] == 900
    code, _, err = _cli("set", "--cluster", env, "nodeDownscaler.colour=red")
    assert code == 2 and "no such policy field" in err
    code, _, err = _cli("set", "--cluster", env, "clusterLimits.cpu.minCores=99")
    assert code == 1 and "must not exceed" in err


def test_diff_then_apply_then_no_drift(env: str, tmp_path: Path) -> None:
    file = tmp_path / "policies.yaml"
    file.write_text(
        "enabled: true\nnodeDownscaler:\n  enabled: true\n  emptyNodes: {enabled: true, delaySeconds: 60}\n"
    )
    code, out, _ = _cli("diff", "--cluster", env, "-f", str(file))
    assert code == 1
    assert "-    delaySeconds: 300" in out and "+    delaySeconds: 60" in out and "+enabled: true" in out
    code, out, _ = _cli("apply", "--cluster", env, "-f", str(file))
    assert code == 0 and "applied" in out
    code, out, _ = _cli("diff", "--cluster", env, "-f", str(file))
    assert (code, out) == (0, "")
    code, out, _ = _cli("apply", "--cluster", env, "-f", str(file))
    assert code == 0 and "unchanged" in out


def test_bad_files_fail_before_anything_is_sent(env: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("clusterLimits:\n  cpu: {minCores: 10, maxCores: 2}\n")
    code, _, err = _cli("apply", "--cluster", env, "-f", str(bad))
    assert code == 1 and "clusterLimits" in err and "must not exceed" in err
    typo = tmp_path / "typo.yaml"
    typo.write_text("nodeDownscaller: {enabled: true}\n")
    code, _, err = _cli("diff", "--cluster", env, "-f", str(typo))
    assert code == 1 and "nodeDownscaller" in err
    code, _, err = _cli("apply", "--cluster", env, "-f", str(tmp_path / "missing.yaml"))
    assert code == 1 and "cannot read" in err
    code, out, _ = _cli("get", "--cluster", env)
    assert yaml.safe_load(out)["clusterLimits"]["cpu"]["maxCores"] == 20


def test_server_errors_are_reported_without_the_key(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = _cli("get", "--cluster", "00000000-0000-0000-0000-000000000000")
    assert code == 1 and "404" in err and "cluster not found" in err
    monkeypatch.setenv("KUBEWISE_API_KEY", "kw_0123456789abcdef_wrong")
    code, _, err = _cli("get", "--cluster", env)
    assert code == 1 and "401" in err and "wrong" not in err
    monkeypatch.delenv("KUBEWISE_API_KEY")
    code, _, err = _cli("get", "--cluster", env)
    assert code == 2 and "KUBEWISE_API_KEY" in err
    monkeypatch.setenv("KUBEWISE_API_KEY", "kw_0123456789abcdef_x")
    monkeypatch.setenv("KUBEWISE_API_URL", "http://127.0.0.1:9")
    code, _, err = _cli("get", "--cluster", env)
    assert code == 1 and "cannot reach" in err
