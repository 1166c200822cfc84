"""`PlatformEvidence`: what `kubewise doctor` read from the platform's API, as plain recorded data.

Filled by `doctor.platform_gather.gather_platform`, turned into findings by the pure
`doctor.platform_checks.platform_findings`, and archived by `kubewise debug-bundle`; tests build it by
hand or load it from JSON (`to_json` / `from_json`), so every check runs on recorded state too.

It never holds the API key: of the key only the platform's word on it is kept (its status, scope,
organization and public id), and the platform URL is kept without any user:password part. The
cluster view, policies, actions and diagnosis problems are kept as the API answered them (camelCase),
so a bundle shows exactly what the platform said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import TypeAdapter

__all__ = ["PlatformEvidence", "safe_url"]


def safe_url(url: str) -> str:
    """`url` without credentials (`https://user:pw@host` -> `https://host`), query or fragment."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "(an unparsable URL)"
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    if ":" in host:  # IPv6
        netloc = f"[{host}]:{parts.port}" if parts.port else f"[{host}]"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass
class PlatformEvidence:
    api_url: str = ""  # safe_url of the platform
    gathered_at: str = ""  # ISO time the platform was read (its clock comparisons are made at)
    reachable: bool = False  # the platform answered `GET /v1/version` as a kubewise platform
    error: str = ""  # why it could not be reached, or what it answered instead
    platform_version: str | None = None
    auth_status: int | None = None  # HTTP status of `GET /v1/auth/whoami` (None: not asked)
    auth_message: str = ""  # the platform's message when it refused the key
    scope: str | None = None  # read | full | agent
    organization_id: str | None = None
    key_id: str | None = None  # the key's public id (never its secret)
    cluster_id: str | None = None  # the cluster examined (given, or the organization's only one)
    cluster_error: str = ""  # why no cluster was examined (none, several, not found, agent key)
    clusters: list[dict[str, str]] = field(default_factory=list)  # {id, name, status} of the org's
    cluster: dict[str, Any] | None = None  # the cluster view (status, agentVersion, conditions, ...)
    policies: dict[str, Any] | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)  # newest first
    diagnosis: list[dict[str, Any]] | None = None  # the platform's policy problems (None: not read)
    diagnosis_error: str = ""  # why not (e.g. no snapshot yet)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = _ADAPTER.dump_python(self, mode="json")
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PlatformEvidence:
        """The evidence `to_json` wrote; missing fields take their defaults."""
        return _ADAPTER.validate_python(doc)


_ADAPTER: TypeAdapter[PlatformEvidence] = TypeAdapter(PlatformEvidence)
