"""Organizations and API keys: creating them (admin CLI) and checking a presented key (every request)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kubewise.server.db import repositories as repo
from kubewise.server.db.tables import ApiKeyRow, ClusterRow, OrganizationRow
from kubewise.server.keys import DUMMY_HASH, new_key, secret_matches, split_key
from kubewise.server.services.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized

__all__ = ["SCOPES", "Caller", "authenticate", "create_api_key", "create_org", "revoke_api_key"]

SCOPES = ("read", "full", "agent")
_TOUCH_EVERY = dt.timedelta(seconds=60)  # last-used time is kept to the minute: no write per request


@dataclass(frozen=True, slots=True)
class Caller:
    org_id: str
    scope: str
    cluster_id: str | None  # agent keys only

    def require_write(self) -> None:
        if self.scope != "full":
            raise Forbidden(f"this API key has the {self.scope!r} scope; this call needs a 'full' key")

    def require_agent(self, cluster_id: str) -> None:
        """Agent calls: the cluster's own agent key, or a full key of its organization."""
        if self.scope == "agent" and self.cluster_id != cluster_id:
            raise NotFound("cluster not found")
        if self.scope == "read":
            raise Forbidden("this API key has the 'read' scope; agent calls need an 'agent' or 'full' key")

    def require_user(self) -> None:
        if self.scope == "agent":
            raise Forbidden("agent keys can only send their cluster's data; use a 'read' or 'full' key")


def create_org(session: Session, name: str, now: dt.datetime) -> OrganizationRow:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid("organization name must be 1-200 characters")
    if repo.org_by_name(session, name) is not None:
        raise Conflict(f"organization {name!r} already exists")
    row = OrganizationRow(id=str(uuid.uuid4()), name=name, created_at=now)
    try:
        repo.add(session, row)
    except IntegrityError:
        raise Conflict(f"organization {name!r} already exists") from None
    return row


def create_api_key(
    session: Session,
    org_name: str,
    scope: str,
    now: dt.datetime,
    *,
    cluster_id: str | None = None,
    name: str = "",
) -> tuple[ApiKeyRow, str]:
    """The new key's row and its plaintext (which is not stored anywhere)."""
    if scope not in SCOPES:
        raise Invalid(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    org = repo.org_by_name(session, org_name)
    if org is None:
        raise NotFound(f"no organization named {org_name!r}; create it with `kubewise admin create-org`")
    if (scope == "agent") != (cluster_id is not None):
        raise Invalid("an agent key needs --cluster, and only an agent key takes one")
    if cluster_id is not None and repo.cluster(session, org.id, cluster_id) is None:
        raise NotFound(f"organization {org_name!r} has no cluster {cluster_id}")
    return issue_key(session, org.id, scope, now, cluster_id=cluster_id, name=name)


def issue_key(
    session: Session,
    org_id: str,
    scope: str,
    now: dt.datetime,
    *,
    cluster_id: str | None = None,
    name: str = "",
) -> tuple[ApiKeyRow, str]:
    if len(name) > 200:
        raise Invalid("an API key's name must be at most 200 characters")
    key = new_key()
    row = ApiKeyRow(
        id=str(uuid.uuid4()),
        org_id=org_id,
        key_id=key.key_id,
        secret_hash=key.secret_hash,
        scope=scope,
        cluster_id=cluster_id,
        name=name,
        created_at=now,
    )
    repo.add(session, row)
    return row, key.plaintext


def revoke_api_key(session: Session, org_name: str, key_id: str, now: dt.datetime) -> None:
    org = repo.org_by_name(session, org_name)
    row = repo.key_by_key_id(session, key_id)
    if org is None or row is None or row.org_id != org.id:
        raise NotFound(f"organization {org_name!r} has no API key {key_id}")
    row.revoked_at = row.revoked_at or now


def authenticate(session: Session, presented: str | None, now: dt.datetime) -> Caller:
    if not presented:
        raise Unauthorized("missing API key: send it in the X-API-Key header")
    parts = split_key(presented)
    row = repo.key_by_key_id(session, parts[0]) if parts else None
    matches = secret_matches(parts[1] if parts else "", row.secret_hash if row else DUMMY_HASH)
    if row is None or not matches:
        raise Unauthorized("invalid API key: check the X-API-Key header, or create a new key")
    if row.revoked_at is not None:
        raise Unauthorized("this API key was revoked: create a new one")
    if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY:
        repo.touch_key(session, row.id, now)
    return Caller(row.org_id, row.scope, row.cluster_id)


def cluster_of(session: Session, caller: Caller, cluster_id: str, *, lock: bool = False) -> ClusterRow:
    """The caller's cluster; another organization's looks exactly like one that does not exist."""
    row = repo.cluster(session, caller.org_id, cluster_id, lock=lock)
    if row is None or (caller.scope == "agent" and caller.cluster_id != cluster_id):
        raise NotFound("cluster not found")
    return row
