"""`kubewise simulate`: the bundled scenario on the bundled example, side by side with automation off."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kubewise.cli.main import app

SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "scenario-scale-and-interrupt.yaml"


def test_the_example_scenario_costs_less_and_waits_less_than_automation_off() -> None:
    result = CliRunner().invoke(app, ["simulate", str(SCENARIO), "--example", "--output", "json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)["runs"]
    scenario, off = runs[0], runs[-1]
    assert [r["policies"] for r in runs] == [
        "scenario",
        "without unschedulablePods",
        "without nodeDownscaler",
        "without evictor",
        "without spotInstances",
        "automation off",
    ]
    without = {r["policies"]: r for r in runs}
    # pending pods wait for good without scale-up; the evictor is what moves pods
    assert without["without unschedulablePods"]["pending_pod_minutes"] > scenario["pending_pod_minutes"]
    assert without["without evictor"]["evictions"] < scenario["evictions"]
    assert scenario["average_hourly_cost"] < off["average_hourly_cost"]
    assert scenario["pending_pod_minutes"] < off["pending_pod_minutes"]
    assert scenario["lost_pods"] == 0 and off["evictions"] == 0


def test_a_bad_scenario_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("events: [{at_minute: 3}]\n")
    result = CliRunner().invoke(app, ["simulate", str(bad), "--example"])
    assert result.exit_code == 2 and "events[0]: needs scale or interrupt_spot" in result.output
    missing = CliRunner().invoke(app, ["simulate", str(tmp_path / "nope.yaml"), "--example"])
    assert missing.exit_code == 2 and "cannot read the scenario" in missing.output
