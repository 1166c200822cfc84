"""What only the cloud knows about the nodes: which are spot. Asked once per instance, cached.

Nodes whose labels already say spot are left alone; other AWS nodes found to be spot get kubewise's own
label `scheduling.kubewise.dev/spot=true`, which the model reads like the providers' labels. Without EC2
read access the nodes keep what their labels say, and the agent reports the `CloudReadAccess` condition
so the platform shows that spot capacity may be priced as on-demand -- never silently wrong costs.
"""

from __future__ import annotations

import copy
from typing import Any

from kubewise.cloud.metadata import CloudMetadata, CloudQueryError
from kubewise.model.capacity_type import capacity_type_from_labels

__all__ = ["SPOT_LABEL", "CloudFacts"]

SPOT_LABEL = "scheduling.kubewise.dev/spot"
_HINT = {
    "UnauthorizedOperation": "give the agent read access to EC2 (AmazonEC2ReadOnlyAccess)",
    "NoCredentialProviders": "give the agent AWS credentials (IRSA role or AWS_ACCESS_KEY_ID/SECRET)",
}


def _instance(node: dict[str, Any]) -> str | None:
    pid = str((node.get("spec") or {}).get("providerID") or "")
    last = pid.rsplit("/", 1)[-1]
    return last if pid.startswith("aws:") and last.startswith("i-") else None


class CloudFacts:
    def __init__(self, cloud: CloudMetadata, region: str) -> None:
        self.cloud, self.region = cloud, region
        self.known: dict[str, bool] = {}  # instance id -> spot (an instance never changes lifecycle)
        self.problem: dict[str, str] | None = None

    @property
    def conditions(self) -> list[dict[str, str]]:
        ok = {"type": "CloudReadAccess", "status": "True", "reason": "", "message": "EC2 readable"}
        return [self.problem or ok]

    def apply(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        nodes = [o for o in objects if o.get("kind") == "Node" and _instance(o)]
        unknown = sorted({i for n in nodes if (i := _instance(n)) and i not in self.known})
        if unknown:
            try:
                spot = self.cloud.spot_instances(unknown, self.region)
            except CloudQueryError as exc:
                self.problem = {
                    "type": "CloudReadAccess",
                    "status": "False",
                    "reason": exc.code,
                    "message": f"cannot read EC2 ({exc}): spot nodes are known from their labels only -- "
                    f"{_HINT.get(exc.code, 'check the agent AWS access')}",
                }
                return objects
            self.problem = None
            self.known.update({i: i in spot for i in unknown})
        out = []
        for obj in objects:
            instance = _instance(obj) if obj.get("kind") == "Node" else None
            labels = (obj.get("metadata") or {}).get("labels") or {}
            if instance and self.known.get(instance) and capacity_type_from_labels(labels) != "spot":
                obj = copy.deepcopy(obj)
                obj["metadata"].setdefault("labels", {})[SPOT_LABEL] = "true"
            out.append(obj)
        return out
