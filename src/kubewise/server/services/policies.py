"""Reading and replacing a cluster's policies (a whole document each time, defaults for what is left out)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from kubewise.server.db import repositories as repo
from kubewise.server.db.tables import PolicyRow
from kubewise.server.policies import Policies
from kubewise.server.services.identity import Caller, cluster_of

__all__ = ["get_policies", "put_policies"]


def get_policies(session: Session, caller: Caller, cluster_id: str) -> Policies:
    caller.require_user()
    cluster_of(session, caller, cluster_id)
    row = repo.policy(session, cluster_id)
    return Policies.model_validate(row.body) if row else Policies()


def put_policies(
    session: Session, caller: Caller, cluster_id: str, body: Policies, now: dt.datetime
) -> Policies:
    caller.require_write()
    cluster_of(session, caller, cluster_id)
    doc = body.model_dump(mode="json", by_alias=True)
    row = repo.policy(session, cluster_id)
    if row is None:
        repo.add(session, PolicyRow(cluster_id=cluster_id, body=doc, updated_at=now))
    else:
        row.body, row.updated_at = doc, now
    return body
