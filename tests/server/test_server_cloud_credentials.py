"""Cloud credentials per cluster: stored encrypted, never shown, scoped to the organization and the key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from conftest import EKS, Platform
from cryptography.fernet import Fernet
from sqlalchemy import text

from kubewise.server.db.engine import make_engine, transaction
from kubewise.server.services.cloud_credentials import load_credentials
from kubewise.server.services.errors import ServiceError
from kubewise.server.services.secret_box import key_file, open_box
from kubewise.server.settings import ServerSettings

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
KEY = {"type": "access-key", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": SECRET}
ROLE = {"type": "role", "roleArn": "arn:aws:iam::111122223333:role/kubewise-prod", "externalId": "ext-7d1f"}


@pytest.fixture(autouse=True)
def _server_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The platform fixture's server reads KUBEWISE_SECRET_KEY: no key file in the user's data dir."""
    monkeypatch.setenv("KUBEWISE_SECRET_KEY", Fernet.generate_key().decode())


def _url(cluster_id: str) -> str:
    return f"/v1/kubernetes/clusters/{cluster_id}/cloud-credentials"


def _stored_secret(platform: Platform, cluster_id: str) -> str:
    engine = make_engine(platform.settings.database_url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT secret FROM cloud_credentials WHERE cluster_id = :c"), {"c": cluster_id}
        ).one()
    engine.dispose()
    return str(row[0])


def test_put_then_get_never_shows_the_secret_and_stores_it_encrypted(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    r = platform.client.put(_url(cluster_id), json=KEY, headers=acme)
    assert r.status_code == 200, r.text
    got = platform.client.get(_url(cluster_id), headers=acme)
    assert got.status_code == 200
    assert got.json() == {
        "type": "access-key",
        "accessKeyId": KEY["accessKeyId"],
        "updatedAt": got.json()["updatedAt"],
    }
    assert SECRET not in r.text + got.text
    stored = _stored_secret(platform, cluster_id)
    assert SECRET not in stored and "secretAccessKey" not in stored  # ciphertext only
    sessions = platform.client.app.state.platform.sessions  # type: ignore[attr-defined]
    with transaction(sessions) as session:
        creds = load_credentials(session, cluster_id, platform.settings)
    assert creds is not None and creds.secret.get_secret_value() == SECRET
    assert SECRET not in repr(creds)


def test_put_replaces_in_place_with_a_role(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    platform.client.put(_url(cluster_id), json=KEY, headers=acme)
    platform.clock.advance(60)
    r = platform.client.put(_url(cluster_id), json=ROLE, headers=acme)
    assert r.status_code == 200
    doc = platform.client.get(_url(cluster_id), headers=acme).json()
    assert doc["type"] == "role" and doc["roleArn"] == ROLE["roleArn"] and "accessKeyId" not in doc
    assert "externalId" not in doc and ROLE["externalId"] not in r.text
    assert doc["updatedAt"].startswith("2026-01-01T12:01")
    sessions = platform.client.app.state.platform.sessions  # type: ignore[attr-defined]
    with transaction(sessions) as session:
        creds = load_credentials(session, cluster_id, platform.settings)
    assert (
        creds is not None and creds.kind == "role" and creds.secret.get_secret_value() == ROLE["externalId"]
    )


def test_delete_removes_them(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    assert platform.client.get(_url(cluster_id), headers=acme).status_code == 404
    assert platform.client.delete(_url(cluster_id), headers=acme).status_code == 404
    platform.client.put(_url(cluster_id), json=KEY, headers=acme)
    assert platform.client.delete(_url(cluster_id), headers=acme).status_code == 204
    r = platform.client.get(_url(cluster_id), headers=acme)
    assert r.status_code == 404 and "kubewise onboard" in r.json()["message"]


def test_another_organization_sees_nothing(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    platform.client.put(_url(cluster_id), json=KEY, headers=acme)
    other = platform.new_org("globex")
    assert platform.client.get(_url(cluster_id), headers=other).status_code == 404
    assert platform.client.put(_url(cluster_id), json=ROLE, headers=other).status_code == 404
    assert platform.client.delete(_url(cluster_id), headers=other).status_code == 404
    assert platform.client.get(_url(cluster_id), headers=acme).json()["type"] == "access-key"  # untouched


def test_scopes(platform: Platform, acme: dict[str, str], cluster_id: str) -> None:
    read = platform.new_key("acme", "read")
    agent = platform.new_key("acme", "agent", cluster_id)
    assert platform.client.put(_url(cluster_id), json=KEY, headers=read).status_code == 403
    assert platform.client.put(_url(cluster_id), json=KEY, headers=agent).status_code == 403
    platform.client.put(_url(cluster_id), json=KEY, headers=acme)
    assert platform.client.get(_url(cluster_id), headers=read).status_code == 200
    assert platform.client.get(_url(cluster_id), headers=agent).status_code == 403
    assert platform.client.delete(_url(cluster_id), headers=read).status_code == 403
    assert platform.client.get(_url(cluster_id), headers={"X-API-Key": "kw_nope"}).status_code == 401


def test_invalid_bodies_are_422_without_echoing_the_secret(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    cases = [
        ({**KEY, "accessKeyId": "not a key"}, "accessKeyId"),
        ({"type": "access-key", "accessKeyId": KEY["accessKeyId"]}, "secretAccessKey"),
        ({**ROLE, "roleArn": "arn:aws:iam::1:user/x"}, "roleArn"),
        ({"type": "password", "secretAccessKey": SECRET}, ""),
        ({**KEY, "extra": SECRET}, "extra"),
    ]
    for body, field in cases:
        r = platform.client.put(_url(cluster_id), json=body, headers=acme)
        assert r.status_code == 422, body
        assert field in r.json()["fieldViolations"][0]["field"]
        assert SECRET not in r.text
    assert platform.client.get(_url(cluster_id), headers=acme).status_code == 404  # nothing half-stored


def test_key_file_is_created_once_beside_the_database_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBEWISE_SECRET_KEY")
    settings = ServerSettings(database_url=f"sqlite:///{tmp_path / 'db' / 'kubewise.db'}")
    token = open_box(settings).seal("hello")
    path = key_file(settings)
    assert path == tmp_path / "db" / "secret.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert open_box(settings).open(token) == "hello"  # a restart reads the same key


def test_secret_key_setting_wins_and_a_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kubewise.db'}"
    settings = ServerSettings(database_url=url, secret_key=Fernet.generate_key().decode())
    token = open_box(settings).seal("hello")
    assert not key_file(settings).exists()
    other = ServerSettings(database_url=url, secret_key=Fernet.generate_key().decode())
    with pytest.raises(ServiceError, match="cannot be decrypted"):
        open_box(other).open(token)
    with pytest.raises(ServiceError, match="not a Fernet key") as bad:
        open_box(ServerSettings(database_url=url, secret_key="short-and-secret"))
    assert "short-and-secret" not in str(bad.value)


def test_deleting_the_cluster_deletes_its_credentials(
    platform: Platform, acme: dict[str, str], cluster_id: str
) -> None:
    platform.client.put(_url(cluster_id), json=KEY, headers=acme)
    assert (
        platform.client.delete(f"/v1/kubernetes/external-clusters/{cluster_id}", headers=acme).status_code
        == 204
    )
    again = platform.client.post("/v1/kubernetes/external-clusters", json=EKS, headers=acme).json()["id"]
    assert platform.client.get(_url(again), headers=acme).status_code == 404
