"""The agent's configuration, from its environment (the names the reference system's agent uses)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AgentSettings"]


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    api_url: str = "http://127.0.0.1:8000"
    api_key: str = Field(default="", repr=False)  # never printed
    cluster_id: str | None = None
    provider: Literal["auto", "eks", "gke", "aks", "kops"] = "auto"
    # overrides for what discovery would otherwise ask the cloud (reference: EKS_ACCOUNT_ID & co.)
    eks_account_id: str | None = None
    eks_region: str | None = None
    eks_cluster_name: str | None = None
    gke_project_id: str | None = None
    gke_location: str | None = None
    gke_cluster_name: str | None = None
    aks_subscription_id: str | None = None
    aks_resource_group: str | None = None
    aks_location: str | None = None
    aks_cluster_name: str | None = None
    kops_cloud: Literal["aws", "gcp", "azure"] = "aws"
    kops_region: str | None = None
    kops_cluster_name: str | None = None
    kops_state_store: str | None = None
    heartbeat_seconds: float = Field(default=30.0, gt=0)
    delta_seconds: float = Field(default=5.0, gt=0)  # how often watched changes are sent
    snapshot_page_objects: int = Field(default=2000, ge=1)  # objects per snapshot call (bounds memory)
    usage_seconds: float = Field(default=60.0, ge=0)  # how often containers' usage is sent (0: never)
    health_port: int | None = Field(default=None, ge=0, le=65535)  # /healthz for the pod's probes
    debug_port: int | None = Field(default=None, ge=0, le=65535)  # /debug/threads, /debug/memory (loopback)
    log_level: str = "INFO"
