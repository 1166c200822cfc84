"""`GcpMetadata` against a stand-in GCE metadata server on loopback."""

from __future__ import annotations

import pytest

from kubewise.cloud.gcp.metadata import GcpMetadata
from kubewise.cloud.metadata import CloudQueryError
from metadata_servers import gce_metadata

GKE_NODE = {
    "project/project-id": "my-proj",
    "instance/attributes/cluster-name": "g1",
    "instance/attributes/cluster-location": "europe-west1-b",
}


def test_a_gke_node_names_project_cluster_and_location() -> None:
    with gce_metadata(GKE_NODE) as url:
        got = GcpMetadata(url).cluster_fields()
    assert got == {"projectId": "my-proj", "clusterName": "g1", "location": "europe-west1-b"}


def test_a_plain_gce_vm_has_no_cluster_attributes() -> None:
    with gce_metadata({"project/project-id": "my-proj"}) as url:
        assert GcpMetadata(url).cluster_fields() == {"projectId": "my-proj"}


def test_no_metadata_server_is_a_clear_error() -> None:
    with pytest.raises(
        CloudQueryError, match=r"MetadataUnavailable: GCE metadata server at http://127\.0\.0\.1:9"
    ):
        GcpMetadata("http://127.0.0.1:9", timeout=0.5).cluster_fields()
