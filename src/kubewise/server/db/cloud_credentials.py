"""The SQL of stored cloud credentials (`cloud_credentials`): one row per cluster. Called by
`services.cloud_credentials` only."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kubewise.server.db.tables import CloudCredentialRow

__all__ = ["credential", "delete_credential"]


def credential(session: Session, cluster_id: str) -> CloudCredentialRow | None:
    return session.scalars(
        select(CloudCredentialRow).where(CloudCredentialRow.cluster_id == cluster_id)
    ).first()


def delete_credential(session: Session, cluster_id: str) -> bool:
    """True when there was one to delete."""
    result = session.execute(delete(CloudCredentialRow).where(CloudCredentialRow.cluster_id == cluster_id))
    return bool(getattr(result, "rowcount", 0))
