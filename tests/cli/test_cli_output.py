"""`kubewise savings` table output and progress display; `kubewise --version` and help."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cli_cluster import GPU_POD, cluster_objects, pod, run, write_dump
from rich.console import Console

from kubewise import __version__
from kubewise.cli.progress import stage_progress
from kubewise.cli.savings import PROGRESS_MIN_PODS, wants_progress
from kubewise.model import Snapshot, load_snapshot_from_objects


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dump(tmp_path_factory.mktemp("table") / "cluster.json", cluster_objects())


def test_table_shows_costs_mix_and_unschedulable_pods(dump: Path) -> None:
    result = run("savings", dump)
    assert result.exit_code == 0 and result.stderr == ""
    out = result.stdout
    assert "aws us-east-1: 3 nodes, 8 pods to place, 3 DaemonSet pods, 1 finished pods ignored" in out
    for text in ("current", "optimized (on-demand)", "optimized (spot)", "$0.417/h", "$304/mo"):
        assert text in out, text
    assert "Recommended node mix (on-demand)" in out and "Recommended node mix (spot)" in out
    assert "Pods no allowed node can run (on-demand): 1" in out and GPU_POD in out
    assert "Planned nodes" not in out
    assert "Lower bound: no plan that runs these pods under the same constraints can cost less." in out


def test_no_spot_table(dump: Path) -> None:
    out = run("savings", dump, "--no-spot").stdout
    assert "optimized (on-demand)" in out and "spot)" not in out


def test_show_nodes_lists_every_planned_node_and_its_pods(dump: Path) -> None:
    out = run("savings", dump, "--show-nodes", "--no-spot").stdout
    assert "Planned nodes (on-demand)" in out
    for name in ("default/web-5d9c7-0", "shop/api-2", "batch/resize-1"):
        assert name in out


def test_unpriced_nodes_are_warned_about_and_not_counted_as_free(tmp_path: Path) -> None:
    objects = cluster_objects()
    objects[0]["metadata"]["labels"]["node.kubernetes.io/instance-type"] = "m99.huge"
    out = run("savings", write_dump(tmp_path / "c.json", objects), "--no-spot").stdout
    assert "(+1 unpriced)" in out
    assert (
        "warning: node ip-10-0-1-10.ec2.internal not priced: instance type 'm99.huge' is not in the aws "
        "us-east-1 catalog" in out
    )
    assert "n/a" in out  # savings % unknown while a node is unpriced


def test_wants_progress_from_the_input_size() -> None:
    pods = [pod(f"p{i}", phase="Pending") for i in range(PROGRESS_MIN_PODS)]
    assert wants_progress(load_snapshot_from_objects(pods))
    assert not wants_progress(load_snapshot_from_objects(pods[:-1]))
    assert not wants_progress(Snapshot())


def test_stage_progress_draws_a_bar_with_each_stage_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with stage_progress(console, enabled=True, steps=2) as bar:
        bar.stage("planning on-demand")
        bar.work(0.5, "pricing node patterns (round 3 of 40)")
        bar.stage("planning spot")
    drawn = buffer.getvalue()
    assert "planning on-demand" in drawn and "planning spot" in drawn
    assert "pricing node patterns (round 3 of 40)" in drawn  # what the plan is doing
    assert "━" in drawn  # the bar


def test_stage_bar_counts_stages_and_the_work_inside_the_current_one() -> None:
    buffer = io.StringIO()
    with stage_progress(Console(file=buffer, force_terminal=True, width=120), enabled=True, steps=2) as bar:
        bar.stage("planning on-demand")
        bar.work(0.3, "building nodes")
        bar.stage("planning spot")
        bar.work(0.5, "fixing whole nodes (10 of 20 pods)")
    drawn = buffer.getvalue()
    assert "15%" in drawn  # 0.3 of the first of two plans
    assert "planning spot" in drawn and "fixing whole nodes (10 of 20 pods)" in drawn and "75%" in drawn
    assert "100%" in drawn  # both done


def test_stage_progress_disabled_draws_nothing() -> None:
    buffer = io.StringIO()
    with stage_progress(Console(file=buffer, force_terminal=True), enabled=False, steps=2) as bar:
        bar.stage("planning on-demand")
        bar.work(0.5, "building nodes")
    assert buffer.getvalue() == ""


def test_progress_bar_on_big_inputs_goes_to_stderr(tmp_path: Path) -> None:
    objects = cluster_objects() + [
        pod(f"batch-{i}", "batch", cpu="10m", phase="Pending") for i in range(1000)
    ]
    path = write_dump(tmp_path / "big.json", objects)
    on_terminal = run("savings", path, "-o", "json", env={"FORCE_COLOR": "1"})
    assert on_terminal.exit_code == 0
    assert "planning on-demand" in on_terminal.stderr
    assert on_terminal.stdout.startswith("{")  # the JSON stays clean
    piped = run("savings", path, "-o", "json")
    assert piped.stderr == ""  # not a terminal: no bar


def test_small_inputs_get_no_progress_bar(dump: Path) -> None:
    assert run("savings", dump, "-o", "json", env={"FORCE_COLOR": "1"}).stderr == ""


def test_version_and_help() -> None:
    version = run("--version")
    assert (version.exit_code, version.stdout) == (0, f"kubewise {__version__}\n")
    help_text = run("savings", "--help").stdout
    for option in ("--context", "--provider", "--region", "--spot", "--no-spot", "--output", "--example"):
        assert option in help_text
