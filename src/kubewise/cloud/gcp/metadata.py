"""`GcpMetadata`: the GCE metadata server, which on a GKE node names the project and the cluster.

GKE sets the instance attributes `cluster-name` and `cluster-location` on every node VM. The server
answers only requests that carry `Metadata-Flavor: Google` (so a stray proxy cannot be mistaken
for it), and only from inside the VM: anywhere else the call fails fast and the agent says which
variables to set instead.
"""

from __future__ import annotations

import httpx

from kubewise.cloud.metadata import CloudQueryError

__all__ = ["GCE_METADATA_URL", "GcpMetadata"]

GCE_METADATA_URL = "http://metadata.google.internal"
_PATHS = {
    "projectId": "project/project-id",
    "clusterName": "instance/attributes/cluster-name",
    "location": "instance/attributes/cluster-location",
}


class GcpMetadata:
    def __init__(self, url: str = GCE_METADATA_URL, *, timeout: float = 2.0) -> None:
        self._url, self._timeout = url.rstrip("/"), timeout

    def cluster_fields(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        try:
            with httpx.Client(timeout=self._timeout, headers={"Metadata-Flavor": "Google"}) as http:
                for field, path in _PATHS.items():
                    answer = http.get(f"{self._url}/computeMetadata/v1/{path}")
                    if answer.status_code == 404:  # not a GKE node, or an attribute GKE did not set
                        continue
                    answer.raise_for_status()
                    if answer.headers.get("Metadata-Flavor") != "Google":
                        raise CloudQueryError(
                            "MetadataUnavailable", f"{self._url} is not the GCE metadata server"
                        )
                    if answer.text.strip():
                        fields[field] = answer.text.strip()
        except httpx.HTTPError as exc:
            raise CloudQueryError(
                "MetadataUnavailable", f"GCE metadata server at {self._url}: {type(exc).__name__}"
            ) from None
        return fields
