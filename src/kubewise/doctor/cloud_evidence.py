"""`CloudEvidence`: what doctor learnt of the cloud account with the credentials it runs with.

Filled by `doctor.cloud_gather.gather_cloud`, turned into findings by the pure
`doctor.cloud_checks.cloud_findings`, archived by `kubewise debug-bundle`; serialisable with
`to_json` / `from_json` so checks run on recorded state. Holds outcomes and AWS's messages, never a
credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

__all__ = ["CloudEvidence"]


@dataclass
class CloudEvidence:
    provider: str = ""  # eks | kops (on AWS) -- other clouds are not probed yet
    region: str = ""
    probed: bool = False  # False: nothing was asked (`skipped` says why)
    skipped: str = ""
    credentials: bool = False  # the default chain found credentials
    identity: str = ""  # the caller's ARN
    outcomes: dict[str, str] = field(default_factory=dict)  # e.g. "ec2:DescribeInstances" -> ok | error code
    messages: dict[str, str] = field(default_factory=dict)  # action -> AWS's message

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = _ADAPTER.dump_python(self, mode="json")
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CloudEvidence:
        return _ADAPTER.validate_python(doc)


_ADAPTER: TypeAdapter[CloudEvidence] = TypeAdapter(CloudEvidence)
