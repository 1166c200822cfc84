"""`kubewise controller`: configuration errors are one line and exit non-zero."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kubewise.cli.main import app


def test_missing_configuration_names_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("API_KEY", "CLUSTER_ID", "AWS_REGION", "CLUSTER_NAME", "LAUNCH_TEMPLATE", "SUBNETS"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["controller", "--once"])
    assert result.exit_code == 1
    assert (
        "controller failed: set API_KEY, CLUSTER_ID, AWS_REGION, CLUSTER_NAME, LAUNCH_TEMPLATE, SUBNETS"
        in result.output
    )


def test_malformed_subnets_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBNETS", "us-east-1a:subnet-1")
    result = CliRunner().invoke(app, ["controller", "--once"])
    assert result.exit_code == 2 and "is not zone=subnet-id" in result.output
