"""Server settings from `KUBEWISE_*` environment variables (one object per process, passed explicitly)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServerSettings", "default_database_url"]


def default_database_url() -> str:
    """The embedded default: a SQLite file in the user's data directory."""
    return f"sqlite:///{Path(user_data_dir('kubewise')) / 'kubewise.db'}"


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KUBEWISE_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    # a cluster whose agent has been silent this long is "Not responding", and later "Disconnected"
    not_responding_after_seconds: int = Field(default=300, ge=1)
    disconnected_after_seconds: int = Field(default=3600, ge=1)
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)  # also the limit after gunzip
    log_level: str = "INFO"
    # how often the autoscaler runs a cycle for each cluster whose policies enable automation (0: never)
    autoscaler_interval_seconds: float = Field(default=60.0, ge=0)
    # the Fernet key (urlsafe base64 of 32 bytes) that encrypts stored cloud credentials; when unset, a key
    # file `secret.key` (mode 0600) beside the SQLite database, or in the user data dir for PostgreSQL
    secret_key: SecretStr | None = None
