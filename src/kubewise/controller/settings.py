"""The controller's configuration, from its environment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ControllerSettings"]


class ControllerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    api_url: str = "http://127.0.0.1:8000"
    api_key: str = Field(default="", repr=False)  # the cluster's agent key; never printed
    cluster_id: str = ""
    poll_seconds: float = Field(default=10.0, gt=0)
    spot_price_seconds: float = Field(default=3600.0, ge=0)  # how often spot prices are reported (0: never)
    cloud: Literal["aws"] = "aws"
    aws_region: str = ""
    cluster_name: str = ""  # for the kubernetes.io/cluster/<name> tag on new instances
    launch_template: str = ""  # the node group's launch template (lt-... or its name)
    subnets: str = ""  # zone=subnet-id pairs, comma separated
    log_level: str = "INFO"

    @field_validator("subnets")
    @classmethod
    def _pairs(cls, value: str) -> str:
        for pair in filter(None, (p.strip() for p in value.split(","))):
            if "=" not in pair:
                raise ValueError(f"SUBNETS: {pair!r} is not zone=subnet-id")
        return value

    def subnet_map(self) -> dict[str, str]:
        pairs = (p.strip().split("=", 1) for p in self.subnets.split(",") if p.strip())
        return {zone.strip(): subnet.strip() for zone, subnet in pairs}

    def missing(self) -> list[str]:
        """The variables a real run needs and does not have."""
        needed = {
            "API_KEY": self.api_key,
            "CLUSTER_ID": self.cluster_id,
            "AWS_REGION": self.aws_region,
            "CLUSTER_NAME": self.cluster_name,
            "LAUNCH_TEMPLATE": self.launch_template,
            "SUBNETS": self.subnets,
        }
        return [name for name, value in needed.items() if not value]
