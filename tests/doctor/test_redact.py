"""The redactor and the archive writer: no key, token or password survives, in any form we know of."""

from __future__ import annotations

import base64
import datetime as dt
import json
import tarfile
from pathlib import Path

import pytest
import yaml

from kubewise.doctor.archive import render_member, write_archive
from kubewise.doctor.redact import REDACTED, Redactor

API_KEY = "kw_0123456789abcdef_Zm9vYmFyYmF6cXV4cXV1eHh5enp5MTIzNDU2Nzg5MA"
AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXBhcnQ"


def test_known_values_go_in_plain_and_base64_form() -> None:
    secret = "my-database-pass-1"
    text = f"connecting with {secret} ({base64.b64encode(secret.encode()).decode()})"
    out = Redactor([secret]).text(text)
    assert secret not in out and base64.b64encode(secret.encode()).decode() not in out
    assert out.count(REDACTED) == 2


@pytest.mark.parametrize(
    "line",
    [
        f"sending heartbeat with key {API_KEY}",
        f"AWS_ACCESS_KEY_ID={AWS_ID}",
        f"aws_secret_access_key = {AWS_SECRET}",
        f"Authorization: Bearer {TOKEN}",
        f"token={TOKEN}",
        'password: "hunter2hunter2"',
        "dsn postgresql://app:hunter2hunter2@db:5432/app",
        '{"level":"info","msg":"retrying","api_key":"abcdef123456"}',
    ],
)
def test_unknown_secrets_are_caught_by_their_shape(line: str) -> None:
    out = Redactor().text(line)
    for secret in (API_KEY, AWS_ID, AWS_SECRET, TOKEN, "hunter2hunter2", "abcdef123456"):
        assert secret not in out
    assert REDACTED in out


def test_ordinary_log_lines_are_left_alone() -> None:
    line = 'time="2021-05-06T14:24:03Z" level=fatal msg="agent failed: getting provider: no valid providers"'
    assert Redactor().text(line) == line


def test_documents_lose_secret_fields_env_values_and_every_secret_value() -> None:
    deployment = {
        "kind": "Deployment",
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "env": [
                                {"name": "API_URL", "value": "https://kubewise.example"},
                                {"name": "AWS_SECRET_ACCESS_KEY", "value": "plain-value-123"},
                            ]
                        }
                    ]
                }
            }
        },
        "metadata": {"annotations": {"db-password": "letmein-please"}},
    }
    secret = {"kind": "Secret", "metadata": {"name": "kubewise-agent"}, "data": {"API_KEY": "a2V5LXZhbHVl"}}
    out = Redactor().document([deployment, secret])
    text = json.dumps(out)
    for value in ("plain-value-123", "letmein-please", "a2V5LXZhbHVl"):
        assert value not in text
    assert "https://kubewise.example" in text  # not a secret: kept
    assert out[1]["data"] == {"API_KEY": REDACTED}  # key names are useful, values are not


def test_archive_holds_no_secret_and_is_written_whole(tmp_path: Path) -> None:
    members = {
        "logs/agent.log": f"key {API_KEY}\nAWS {AWS_ID} {AWS_SECRET}\n",
        "manifests/secret.yaml": {"kind": "Secret", "data": {"API_KEY": API_KEY}},
        "evidence.json": {"nested": [{"token": TOKEN}]},
    }
    target = tmp_path / "out" / "bundle.tar.gz"
    created = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    write_archive(target, members, Redactor([AWS_SECRET]), created_at=created, root="kubewise-debug")
    with tarfile.open(target) as tar:
        names = tar.getnames()
        blobs = [tar.extractfile(m).read().decode() for m in tar.getmembers()]  # type: ignore[union-attr]
    assert sorted(names) == sorted(f"kubewise-debug/{n}" for n in members)
    for blob in blobs:
        for secret in (API_KEY, AWS_ID, AWS_SECRET, TOKEN):
            assert secret not in blob
    assert list(target.parent.iterdir()) == [target]  # no temporary file left
    assert target.stat().st_mode & 0o077 == 0


def test_failed_write_leaves_the_previous_bundle(tmp_path: Path) -> None:
    target = tmp_path / "bundle.tar.gz"
    target.write_bytes(b"previous")

    class Unserialisable:
        pass

    with pytest.raises(yaml.YAMLError):
        write_archive(
            target,
            {"a.txt": "ok", "b.yaml": {"x": Unserialisable()}},
            Redactor(),
            created_at=dt.datetime.now(dt.UTC),
            root="r",
        )
    assert target.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [target]


def test_render_member_json_is_valid_after_redaction() -> None:
    doc = {"secretKeys": ["API_KEY", "AWS_ACCESS_KEY_ID"], "password": "x" * 10}
    parsed = json.loads(render_member("e.json", doc, Redactor()))
    assert parsed == {"secretKeys": ["API_KEY", "AWS_ACCESS_KEY_ID"], "password": REDACTED}
