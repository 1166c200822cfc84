"""The tables, as SQLAlchemy 2 declarative classes. Changing one needs a migration in `server/migrations`."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ActionRow",
    "ApiKeyRow",
    "AutoscalerStateRow",
    "Base",
    "CloudCredentialRow",
    "ClusterObjectRow",
    "ClusterRow",
    "OrganizationRow",
    "PolicyRow",
    "StagedObjectRow",
    "UtcDateTime",
    "WorkloadUsageRow",
]


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UtcDateTime(), dict[str, Any]: JSON()}


class OrganizationRow(Base):
    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime]


class ClusterRow(Base):
    __tablename__ = "clusters"
    __table_args__ = (UniqueConstraint("org_id", "identity", name="uq_clusters_org_identity"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(16))  # eks | gke | aks | kops
    identity: Mapped[str] = mapped_column(String(600))  # provider/account/region/cluster, for idempotence
    details: Mapped[dict[str, Any]]  # the provider object of the registration body, as given
    created_at: Mapped[dt.datetime]
    connect_requested_at: Mapped[dt.datetime]  # creation or the last Reconnect
    last_heartbeat_at: Mapped[dt.datetime | None]
    agent_version: Mapped[str | None] = mapped_column(String(100))
    snapshot_at: Mapped[dt.datetime | None]
    sequence: Mapped[int | None] = mapped_column(Integer)  # of the last applied snapshot or delta
    resync_needed: Mapped[bool] = mapped_column(default=False)
    conditions: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)  # the agent's, from its heartbeat
    staging_sequence: Mapped[int | None] = mapped_column(Integer)  # of a paged snapshot under way
    staged_pages: Mapped[int] = mapped_column(Integer, default=0)  # its pages received so far
    controller_version: Mapped[str | None] = mapped_column(String(100))  # X-Kubewise-Version it sent
    controller_seen_at: Mapped[dt.datetime | None]  # the cluster controller's last call


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)  # the public part of the key
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the secret part, hex
    scope: Mapped[str] = mapped_column(String(16))  # read | full | agent
    cluster_id: Mapped[str | None] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class _ObjectColumns:
    """One Kubernetes object of a cluster, keyed by kind, namespace and name."""

    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(100), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(253), primary_key=True)
    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    body: Mapped[dict[str, Any]]


class ClusterObjectRow(_ObjectColumns, Base):
    """The cluster's Kubernetes objects as the agent last reported them (snapshot, then deltas)."""

    __tablename__ = "cluster_objects"


class StagedObjectRow(_ObjectColumns, Base):
    """The pages of a paged snapshot received so far; they replace `cluster_objects` with the last."""

    __tablename__ = "staged_objects"


class PolicyRow(Base):
    __tablename__ = "cluster_policies"
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime]


class ActionRow(Base):
    """What the autoscaler decided for a cluster, with its reason: the audit trail, and the queue the
    cluster controller will take its work from (`status`)."""

    __tablename__ = "autoscaler_actions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    position: Mapped[int] = mapped_column(Integer, default=0)  # order within its cycle: cordon, drain, delete
    kind: Mapped[str] = mapped_column(String(32))  # add-nodes | cordon-node | drain-node | delete-node
    status: Mapped[str] = mapped_column(String(16))  # pending (the controller acknowledges later)
    node: Mapped[str | None] = mapped_column(String(253))
    instance_type: Mapped[str | None] = mapped_column(String(100))
    capacity_type: Mapped[str | None] = mapped_column(String(16))
    zone: Mapped[str | None] = mapped_column(String(100))
    count: Mapped[int | None] = mapped_column(Integer)
    hourly_price: Mapped[float | None] = mapped_column(Float)
    pods: Mapped[list[str] | None] = mapped_column(JSON)
    alternatives: Mapped[list[str] | None] = mapped_column(JSON)  # spot diversity: other types
    labels: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the node template's labels
    taints: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)  # ... and taints (key, value, effect)
    replaces: Mapped[str | None] = mapped_column(String(253))  # the node these new nodes stand in for
    reason: Mapped[str] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None]
    message: Mapped[str | None] = mapped_column(Text)  # the controller's, when it finished
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # rightsize-workload: what to set


class AutoscalerStateRow(Base):
    """What the autoscaler remembers of a cluster between cycles."""

    __tablename__ = "autoscaler_state"
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)
    last_run_at: Mapped[dt.datetime]
    empty_since: Mapped[dict[str, Any]]  # node -> unix seconds it was first seen empty
    evictor_ran_at: Mapped[dt.datetime | None]
    spot_restored_at: Mapped[dt.datetime | None]  # fallback nodes last tried back on spot
    spot_prices: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # type -> USD/h, from the controller
    spot_prices_at: Mapped[dt.datetime | None]
    unavailable: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # "type|capacity" -> until (unix s)


class ConsoleSessionRow(Base):
    """A signed-in web console: the browser holds the token (an http-only cookie), this its hash."""

    __tablename__ = "console_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie, hex
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # sent back in every form
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class CostSampleRow(Base):
    """What a cluster's nodes cost at one time (sampled by the server's loop): cost over time."""

    __tablename__ = "cost_samples"
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    hourly_cost: Mapped[float] = mapped_column(Float)
    nodes: Mapped[int] = mapped_column(Integer)


class ClusterViewRow(Base):
    """A cluster's savings report and per-node figures, planned in the background for the console
    (planning a 5,000-node cluster takes a minute; a page must not)."""

    __tablename__ = "cluster_views"
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)
    planned_at: Mapped[dt.datetime]
    version: Mapped[int | None] = mapped_column(Integer)  # the cluster's sequence it was planned on
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class CloudCredentialRow(Base):
    """The cloud credentials a cluster was onboarded with (`kubewise onboard`). The secret part (an AWS
    secret access key, or a role's external id) is stored only encrypted (`services.secret_box`)."""

    __tablename__ = "cloud_credentials"
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # access-key | role
    access_key_id: Mapped[str | None] = mapped_column(String(128))
    role_arn: Mapped[str | None] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(Text)  # Fernet token of {"secretAccessKey"} or {"externalId"}
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class WorkloadUsageRow(Base):
    """What one container of one workload used (`rightsizing.ContainerUsage`, decaying histograms of a
    fixed maximum size): one row per workload container, so storage stays bounded."""

    __tablename__ = "workload_usage"
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(253), primary_key=True)
    kind: Mapped[str] = mapped_column(String(100), primary_key=True)  # Deployment | StatefulSet | ...
    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    container: Mapped[str] = mapped_column(String(253), primary_key=True)
    usage: Mapped[dict[str, Any]] = mapped_column(JSON)  # ContainerUsage.to_json()
    oom_marks: Mapped[list[str]] = mapped_column(JSON)  # "pod@finishedAt" of OOM kills recorded (recent)
    updated_at: Mapped[dt.datetime]  # the last sample or OOM folded in
    seen_at: Mapped[dt.datetime]  # the last time the workload was among the cluster's objects
