"""The console in a real browser: Playwright driving Debian's headless Chromium against a live server.

Signs in with the keyboard, sees the connected cluster, opens it and its savings chart, changes a
policy and sees it saved. Screenshots go to `test-artifacts/console/` (kept by CI as artifacts).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from kube_objects import node_json
from live_server import live_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
EKS = {"eks": {"accountId": "111122223333", "region": "us-east-1", "clusterName": "prod"}}
FLAGS = [  # the machine's network is closed: no background connections, no sandbox as root
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)"
        )
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    with live_server(tmp_path) as (url, key):
        headers = {"X-API-Key": key}
        registered = httpx.post(f"{url}/v1/kubernetes/external-clusters", json=EKS, headers=headers)
        cluster_id = registered.json()["id"]
        container = {"name": "c", "resources": {"requests": {"cpu": "300m"}}}
        pod = {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"nodeName": "n1", "containers": [container]},
            "status": {"phase": "Running"},
        }
        body = {"sequence": 1, "items": [node_json("n1"), node_json("n2"), pod]}
        snap = httpx.post(f"{url}/v1/agent/clusters/{cluster_id}/snapshot", json=body, headers=headers)
        assert snap.status_code == 200, snap.text
        yield url, key, cluster_id


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sign_in_see_the_cluster_and_its_chart_and_change_a_policy(
    browser: Browser, console: tuple[str, str, str]
) -> None:
    url, key, cluster_id = console
    page = browser.new_page()
    page.goto(f"{url}/console")
    expect(page).to_have_url(f"{url}/console/sign-in")  # a first visit: no "session ended" note
    page.get_by_label("API key").fill(key)
    page.get_by_label("API key").press("Enter")  # the keyboard alone signs in
    expect(page.get_by_role("heading", name="Clusters")).to_be_visible()
    expect(page.get_by_role("link", name="prod")).to_be_visible()
    expect(page.get_by_text("Connected", exact=True)).to_be_visible()
    _shot(page, "clusters")
    page.get_by_role("link", name="prod").click()
    chart = page.get_by_role("img", name="Hourly cost: current and optimized")
    expect(chart).to_be_visible()
    expect(page.get_by_role("cell", name="n1", exact=True)).to_be_visible()
    _shot(page, "cluster")
    evictor = page.get_by_label("Evictor (consolidation)")
    expect(evictor).not_to_be_checked()
    evictor.check()
    page.get_by_label("Evictor runs every (seconds)").fill("600")
    page.get_by_role("button", name="Save policies").click()
    expect(page.get_by_role("status")).to_have_text("Policies saved.")
    expect(page.get_by_label("Evictor (consolidation)")).to_be_checked()
    _shot(page, "policies-saved")
    doc = httpx.get(f"{url}/v1/kubernetes/clusters/{cluster_id}/policies", headers={"X-API-Key": key}).json()
    assert doc["evictor"]["enabled"] is True and doc["evictor"]["cycleInterval"] == 600
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["kubewise_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict" and key not in session["value"]
    page.close()


def test_an_invalid_value_is_refused_with_the_field_named(
    browser: Browser, console: tuple[str, str, str]
) -> None:
    url, key, cluster_id = console
    page = browser.new_page()
    page.goto(f"{url}/console/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{url}/console/clusters/{cluster_id}")
    page.get_by_label("Evictor runs every (seconds)").fill("3")
    page.get_by_role("button", name="Save policies").click()
    expect(page.get_by_role("alert")).to_contain_text("Evictor runs every (seconds)")
    _shot(page, "policies-invalid")
    page.close()
