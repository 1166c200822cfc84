"""`kubewise admin` and `kubewise db upgrade` against the database KUBEWISE_DATABASE_URL names."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubewise.cli.main import app
from kubewise.server.db.engine import make_engine, make_sessions, transaction
from kubewise.server.services.identity import authenticate


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'sub' / 'kw.db'}"
    monkeypatch.setenv("KUBEWISE_DATABASE_URL", url)
    return url


def test_create_org_and_key_prints_the_key_alone_on_the_last_line(db_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    r = runner.invoke(app, ["admin", "create-org", "acme"])
    assert r.exit_code == 0 and "acme" in r.stdout
    r = runner.invoke(app, ["admin", "create-api-key", "--org", "acme", "--scope", "read"])
    assert r.exit_code == 0, r.output
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("kw_") and " " not in key
    import datetime as dt

    with transaction(make_sessions(make_engine(db_url))) as session:
        caller = authenticate(session, key, dt.datetime.now(dt.UTC))
    assert caller.scope == "read"
    key_id = key.split("_")[1]
    assert runner.invoke(app, ["admin", "revoke-api-key", "--org", "acme", key_id]).exit_code == 0


def test_admin_errors_are_clear_and_exit_non_zero(db_url: str) -> None:
    runner = CliRunner()
    runner.invoke(app, ["admin", "create-org", "acme"])
    r = runner.invoke(app, ["admin", "create-org", "acme"])
    assert r.exit_code == 1 and "already exists" in r.stderr
    r = runner.invoke(app, ["admin", "create-api-key", "--org", "nope"])
    assert r.exit_code == 1 and "no organization named 'nope'" in r.stderr
    r = runner.invoke(app, ["admin", "create-api-key", "--org", "acme", "--scope", "root"])
    assert r.exit_code == 1 and "scope must be one of" in r.stderr
    r = runner.invoke(app, ["admin", "create-api-key", "--org", "acme", "--scope", "agent"])
    assert r.exit_code == 1 and "--cluster" in r.stderr


def test_bad_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBEWISE_DATABASE_URL", "mysql://user:secret@host/db")
    r = CliRunner().invoke(app, ["db", "upgrade"])
    assert r.exit_code == 2 and "unsupported database" in r.stderr and "secret" not in r.stderr


def test_unreachable_database_is_a_clear_error_without_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBEWISE_DATABASE_URL", "postgresql://kw:hunter2@127.0.0.1:9/kubewise")
    r = CliRunner().invoke(app, ["admin", "create-org", "acme"])
    assert r.exit_code == 2 and "cannot open the database" in r.stderr
    assert "hunter2" not in r.stderr and "Traceback" not in r.output
