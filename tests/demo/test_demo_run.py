"""`kubewise demo` end to end: the platform, the agent and the controller over the simulated cluster.

One real run (about a minute): the example cluster's pending pods get nodes, the evictor and the
downscaler remove nodes, and the platform's API shows it all. Its figures are the run's own.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from kubewise.cli.demo import _print_summary
from kubewise.cli.main import app


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], str, Path]:
    data = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--duration", "60", "--data-dir", str(data), "-o", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr, data


def test_automation_makes_the_cluster_cheaper_without_losing_pods(
    demo_run: tuple[dict[str, object], str, Path],
) -> None:
    summary, _, _ = demo_run
    start, end, actions = summary["start"], summary["end"], summary["actions"]
    assert isinstance(start, dict) and isinstance(end, dict) and isinstance(actions, dict)
    assert summary["clusterStatus"] == "Connected"
    assert actions.get("add-nodes done", 0) >= 1  # the example's pending pods got nodes
    assert actions.get("delete-node done", 0) >= 1  # consolidation or empty-node removal
    assert end["hourlyCost"] < start["hourlyCost"]
    assert summary["lostPods"] == 0 and summary["evictions"] > 0  # type: ignore[operator]
    # the platform saw what the cluster is now: its cost is the simulated cloud's bill, node for node
    cost = summary["platformCost"]
    assert isinstance(cost, dict) and cost["nodes"] == end["nodes"]
    assert abs(cost["hourlyCost"] - end["hourlyCost"]) < 0.5  # the agent is at most a delta behind
    for plan in summary["platformSavings"].values():  # type: ignore[attr-defined]
        assert plan["lowerBound"] <= plan["hourlyCost"] + 1e-9


def test_progress_names_each_action_with_its_reason_and_the_audit_trail_has_them(
    demo_run: tuple[dict[str, object], str, Path],
) -> None:
    summary, progress, data = demo_run
    assert "platform serving on http://127.0.0.1:" in progress
    assert "event  catalog/image-resizer scaled to 24 replicas" in progress
    done = [line for line in progress.splitlines() if "  done   " in line]
    assert done and all(" -- " in line for line in done)
    assert (data / "kubewise.db").exists() and (data / "demo.log").stat().st_size > 0
    assert oct((data / "kubeconfig").stat().st_mode & 0o777) == "0o600"
    # the platform stopped with the demo
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{summary['platform']}/healthz", timeout=2)


def test_the_summary_reads_as_sentences(demo_run: tuple[dict[str, object], str, Path]) -> None:
    summary, _, _ = demo_run
    console = Console(record=True, width=200)
    _print_summary(console, summary)
    text = console.export_text()
    assert "Cluster cost: " in text and "% less)" in text and "lower bound" in text
    assert "0 lost" in text


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    bad = CliRunner().invoke(app, ["demo", "-o", "xml"])
    assert bad.exit_code == 2 and "--output must be table or json" in bad.output
    (tmp_path / "old.db").write_text("x")
    busy = CliRunner().invoke(app, ["demo", "--data-dir", str(tmp_path)])
    assert busy.exit_code == 2 and "is not empty" in busy.output
    short = CliRunner().invoke(app, ["demo", "--duration", "5"])
    assert short.exit_code == 2


def test_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["demo", "--port", str(port), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert f"error: demo failed: the platform did not start: 127.0.0.1:{port} is taken" in result.output
