"""Console sessions: an API key exchanged for a cookie token, checked on every page.

The database keeps only the token's hash (like API keys); a session ends when it expires, when the
user signs out, or when its API key is revoked (checked on every request, so revoking a key signs
its sessions out at once).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kubewise.server.db import repositories as repo
from kubewise.server.db.tables import ApiKeyRow, ConsoleSessionRow
from kubewise.server.keys import hash_secret
from kubewise.server.services.errors import Forbidden, Unauthorized
from kubewise.server.services.identity import Caller, authenticate

__all__ = ["SESSION_LIFETIME", "ConsoleSession", "end_session", "open_session", "start_session"]

SESSION_LIFETIME = dt.timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    caller: Caller
    csrf_token: str

    def check_csrf(self, presented: str | None) -> None:
        if not presented or not hmac.compare_digest(presented, self.csrf_token):
            raise Forbidden("the form is stale or did not come from this console: reload the page")


def start_session(session: Session, api_key: str, now: dt.datetime) -> str:
    """Sign in with `api_key`; returns the cookie token (shown to the browser only)."""
    caller = authenticate(session, api_key.strip(), now)
    if caller.scope == "agent":
        raise Forbidden("agent keys cannot sign in to the console: use a 'read' or 'full' key")
    key_id = api_key.strip().split("_")[1]
    row = repo.key_by_key_id(session, key_id)
    assert row is not None  # authenticate found it
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSessionRow(
            token_hash=hash_secret(token),
            api_key_id=row.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at < now))
    return token


def open_session(session: Session, token: str | None, now: dt.datetime) -> ConsoleSession:
    """The signed-in session of `token`, or Unauthorized (sign in again)."""
    if not token:
        raise Unauthorized("sign in with an API key")
    found = session.execute(
        select(ConsoleSessionRow, ApiKeyRow)
        .join(ApiKeyRow, ApiKeyRow.id == ConsoleSessionRow.api_key_id)
        .where(ConsoleSessionRow.token_hash == hash_secret(token))
    ).first()
    if found is None:
        raise Unauthorized("your session ended: sign in again")
    row, key = found
    if row.expires_at <= now or key.revoked_at is not None:
        raise Unauthorized("your session ended: sign in again")
    return ConsoleSession(Caller(key.org_id, key.scope, key.cluster_id), row.csrf_token)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == hash_secret(token)))
