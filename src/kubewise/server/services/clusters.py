"""Clusters: registration (idempotent), listing, status lifecycle, Reconnect, deletion.

Status is worked out from times, never stored, so every replica agrees and nothing needs a timer:
Connecting (registered or Reconnect pressed, no heartbeat since) -> Connected (heartbeat within
`not_responding_after`) -> Not responding -> Disconnected (silent beyond `disconnected_after`).
Deleting a cluster removes it and its data from the platform only; nothing is sent to the cluster.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kubewise.server.db import repositories as repo
from kubewise.server.db.tables import ClusterRow
from kubewise.server.schemas import PROVIDERS, ClusterRegistration, ClusterView
from kubewise.server.services.errors import Conflict
from kubewise.server.services.identity import Caller, cluster_of, issue_key
from kubewise.server.settings import ServerSettings

__all__ = [
    "CONNECTED",
    "CONNECTING",
    "DISCONNECTED",
    "NOT_RESPONDING",
    "cluster_region",
    "cluster_status",
    "delete_cluster",
    "issue_agent_key",
    "reconnect",
    "record_controller",
    "register",
    "view",
]

CONNECTING, CONNECTED, NOT_RESPONDING, DISCONNECTED = (
    "Connecting",
    "Connected",
    "Not responding",
    "Disconnected",
)


def cluster_status(row: ClusterRow, now: dt.datetime, settings: ServerSettings) -> str:
    not_responding = dt.timedelta(seconds=settings.not_responding_after_seconds)
    disconnected = dt.timedelta(seconds=settings.disconnected_after_seconds)
    beat = row.last_heartbeat_at
    if beat is None or beat < row.connect_requested_at:
        return DISCONNECTED if now - row.connect_requested_at > disconnected else CONNECTING
    silent = now - beat
    if silent <= not_responding:
        return CONNECTED
    return NOT_RESPONDING if silent <= disconnected else DISCONNECTED


def _identity(body: ClusterRegistration) -> str:
    d = body.details.model_dump()
    return "/".join([body.provider, *(str(d[k]).strip().lower() for k in sorted(d) if k != "state_store")])


def cluster_region(row: ClusterRow) -> tuple[str, str]:
    """`(cloud, region)` the cluster runs in: aws/gcp/azure, and a region (a GKE zone's region)."""
    d = row.details
    if row.provider == "eks":
        return "aws", d["region"]
    if row.provider == "gke":
        location = d["location"]
        return "gcp", location[:-2] if location.count("-") == 2 else location  # us-central1-a -> us-central1
    if row.provider == "aks":
        return "azure", d["location"]
    return d.get("cloud", "aws"), d["region"]


def view(row: ClusterRow, now: dt.datetime, settings: ServerSettings) -> ClusterView:
    assert row.provider in PROVIDERS
    return ClusterView.model_validate(
        {
            "id": row.id,
            "name": row.name,
            "organization_id": row.org_id,
            "provider_type": row.provider,
            "status": cluster_status(row, now, settings),
            "region": cluster_region(row)[1],
            "created_at": row.created_at,
            "last_heartbeat_at": row.last_heartbeat_at,
            "agent_snapshot_received_at": row.snapshot_at,
            "agent_version": row.agent_version,
            "controller_version": row.controller_version,
            "controller_last_seen_at": row.controller_seen_at,
            "conditions": row.conditions or [],
            row.provider: row.details,
        }
    )


def register(
    session: Session, caller: Caller, body: ClusterRegistration, now: dt.datetime
) -> tuple[ClusterRow, bool]:
    """The cluster with this identity (provider, account, region, name), created if new; True if created."""
    caller.require_write()
    identity = _identity(body)
    found = repo.cluster_by_identity(session, caller.org_id, identity)
    if found is not None:
        return found, False
    details = body.details.model_dump(by_alias=True, exclude_none=True)
    row = ClusterRow(
        id=str(uuid.uuid4()),
        org_id=caller.org_id,
        name=body.name or body.details.cluster_name,
        provider=body.provider,
        identity=identity,
        details=details,
        created_at=now,
        connect_requested_at=now,
        resync_needed=False,
    )
    try:
        with session.begin_nested():  # another replica registering the same cluster at once wins the race
            repo.add(session, row)
    except IntegrityError:
        found = repo.cluster_by_identity(session, caller.org_id, identity)
        if found is None:
            raise Conflict("the cluster could not be registered; try again") from None
        return found, False
    return row, True


def list_clusters(session: Session, caller: Caller) -> Sequence[ClusterRow]:
    caller.require_user()
    return repo.clusters(session, caller.org_id)


def get_cluster(session: Session, caller: Caller, cluster_id: str) -> ClusterRow:
    caller.require_user()
    return cluster_of(session, caller, cluster_id)


def delete_cluster(session: Session, caller: Caller, cluster_id: str) -> None:
    caller.require_write()
    session.delete(cluster_of(session, caller, cluster_id))  # objects, policies and agent keys cascade


def reconnect(
    session: Session, caller: Caller, cluster_id: str, now: dt.datetime, settings: ServerSettings
) -> ClusterRow:
    caller.require_write()
    row = cluster_of(session, caller, cluster_id)
    if cluster_status(row, now, settings) == CONNECTED:
        raise Conflict("the cluster is connected; there is nothing to reconnect")
    row.connect_requested_at = now
    row.resync_needed = True  # the agent starts over with a full snapshot
    return row


_SEEN_EVERY = dt.timedelta(seconds=60)  # the controller polls every few seconds: no write per call


def record_controller(
    session: Session, caller: Caller, cluster_id: str, version: str | None, now: dt.datetime
) -> None:
    """The cluster controller called (with its version, when it said): shown in the cluster view."""
    caller.require_agent(cluster_id)
    row = cluster_of(session, caller, cluster_id)
    version = version.strip()[:100] if version and version.strip() else row.controller_version
    seen = row.controller_seen_at
    if version != row.controller_version or seen is None or now - seen >= _SEEN_EVERY:
        row.controller_version, row.controller_seen_at = version, now


def issue_agent_key(session: Session, caller: Caller, cluster_id: str, now: dt.datetime) -> str:
    """A new key that can only send this cluster's data (what its agent runs with)."""
    caller.require_write()
    row = cluster_of(session, caller, cluster_id)
    _, plaintext = issue_key(
        session, caller.org_id, "agent", now, cluster_id=row.id, name=f"agent of {row.name}"[:200]
    )
    return plaintext
