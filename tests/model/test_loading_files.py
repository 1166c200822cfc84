"""load_snapshot_from_path: JSON / YAML / multi-document / gzip files and directories, and file errors."""

from __future__ import annotations

import codecs
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from model_k8s_objects import node_obj, ns_obj, pdb_obj, pod_obj

from kubewise.model import (
    OwnerKind,
    Resources,
    Snapshot,
    SnapshotLoadError,
    load_snapshot_from_objects,
    load_snapshot_from_path,
)
from kubewise.model.dump_files import parse_documents

DATA = Path(__file__).parent / "data"
MI = 1024**2


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def as_list(*items: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": list(items)}


def error_of(path: Path | str) -> str:
    with pytest.raises(SnapshotLoadError) as info:
        load_snapshot_from_path(path)
    return str(info.value)


def check_eks_small(snap: Snapshot) -> None:
    assert [n.instance_type for n in snap.nodes] == ["m5.xlarge", "m5a.xlarge"]
    assert [n.capacity_type for n in snap.nodes] == ["on-demand", "spot"]
    assert snap.nodes[0].allocatable["memory"] == 15146124 * 1024
    assert {n.region for n in snap.nodes} == {"eu-west-1"}
    web, aws_node, backup, db = snap.pods
    # web: app 500m + istio sidecar 100m = 600m; init `migrate` 1 cpu after the sidecar = 1100m
    # memory: 512Mi + 128Mi = 640Mi vs 256Mi + 128Mi = 384Mi -> 640Mi
    assert web.requests == Resources({"cpu": 1100, "memory": 640 * MI, "pods": 1})
    assert (web.owner_kind, web.owner_name) == (OwnerKind.DEPLOYMENT, "web")
    assert len(web.topology_spread) == 1 and len(web.tolerations) == 2
    assert aws_node.is_daemonset and aws_node.priority == 2000001000
    assert aws_node.node_affinity[0].match_fields[0].values == ("ip-10-0-2-3.eu-west-1.compute.internal",)
    assert backup.is_terminal and backup.owner_kind == OwnerKind.JOB
    assert db.has_local_storage and db.owner_kind == OwnerKind.STATEFULSET
    assert [p.name for p in snap.active_pods] == [web.name, aws_node.name, db.name]
    (pdb,) = snap.pdbs
    assert (pdb.max_unavailable, pdb.disruptions_allowed) == ("25%", 1)
    assert snap.namespace_labels["shop"]["team"] == "checkout"


def test_kubectl_json_dump() -> None:
    check_eks_small(load_snapshot_from_path(DATA / "kubectl_eks_small.json"))


def test_kubectl_yaml_dump_gives_the_same_snapshot() -> None:
    from_yaml = load_snapshot_from_path(str(DATA / "kubectl_eks_small.yaml"))  # str paths work too
    check_eks_small(from_yaml)
    assert from_yaml == load_snapshot_from_path(DATA / "kubectl_eks_small.json")


@pytest.mark.parametrize("name", ["dump.json.gz", "dump.yaml.gz"])
def test_gzip(tmp_path: Path, name: str) -> None:
    source = DATA / ("kubectl_eks_small.json" if ".json" in name else "kubectl_eks_small.yaml")
    with gzip.open(tmp_path / name, "wb") as f:
        f.write(source.read_bytes())
    check_eks_small(load_snapshot_from_path(tmp_path / name))


def test_single_object_and_typed_list_files(tmp_path: Path) -> None:
    write_json(tmp_path / "node.json", node_obj("n1"))
    assert [n.name for n in load_snapshot_from_path(tmp_path / "node.json").nodes] == ["n1"]
    pod = pod_obj("p1")
    del pod["kind"]
    write_json(tmp_path / "pods.json", {"kind": "PodList", "apiVersion": "v1", "items": [pod]})
    assert [p.name for p in load_snapshot_from_path(tmp_path / "pods.json").pods] == ["p1"]


def test_multi_document_yaml(tmp_path: Path) -> None:
    text = (
        "---\n"
        + yaml.safe_dump(node_obj("n1"))
        + "---\n---\n"
        + yaml.safe_dump(as_list(pod_obj("p1"), pod_obj("p2")))
    )
    (tmp_path / "cluster.yml").write_text(text)
    snap = load_snapshot_from_path(tmp_path / "cluster.yml")
    assert [n.name for n in snap.nodes] == ["n1"] and [p.name for p in snap.pods] == ["p1", "p2"]


def test_concatenated_json_documents(tmp_path: Path) -> None:
    """`kubectl get nodes -o json; kubectl get pods -A -o json` redirected into one file."""
    text = json.dumps(as_list(node_obj("n1")), indent=4) + "\n" + json.dumps(as_list(pod_obj("p1")), indent=4)
    (tmp_path / "both.json").write_text(text)
    snap = load_snapshot_from_path(tmp_path / "both.json")
    assert len(snap.nodes) == 1 and len(snap.pods) == 1


def test_unknown_extension_is_sniffed(tmp_path: Path) -> None:
    write_json(tmp_path / "dump.txt", as_list(node_obj("n1")))
    (tmp_path / "dump").write_text(yaml.safe_dump(as_list(node_obj("n2"))))
    assert load_snapshot_from_path(tmp_path / "dump.txt").nodes[0].name == "n1"
    assert load_snapshot_from_path(tmp_path / "dump").nodes[0].name == "n2"


def test_utf16_and_bom_files_from_powershell_redirection(tmp_path: Path) -> None:
    text = json.dumps(as_list(node_obj("n1")))
    (tmp_path / "utf16.json").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    (tmp_path / "bom.json").write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    assert load_snapshot_from_path(tmp_path / "utf16.json").nodes[0].name == "n1"
    assert load_snapshot_from_path(tmp_path / "bom.json").nodes[0].name == "n1"


def test_directory_is_read_in_sorted_order_ignoring_other_files(tmp_path: Path) -> None:
    write_json(tmp_path / "b-pods.json", as_list(pod_obj("p2"), pod_obj("p3")))
    write_json(tmp_path / "a-pods.json", as_list(pod_obj("p1")))
    (tmp_path / "c-nodes.yaml").write_text(yaml.safe_dump(as_list(node_obj("n1"))))
    with gzip.open(tmp_path / "d-pdbs.json.gz", "wt") as f:
        json.dump(as_list(pdb_obj()), f)
    write_json(tmp_path / "e-empty-pdbs.json", as_list())  # a cluster without PDBs: fine
    (tmp_path / "README.md").write_text("not a dump")
    (tmp_path / "sub").mkdir()
    write_json(tmp_path / "sub" / "more.json", as_list(pod_obj("nested")))  # not recursive
    snap = load_snapshot_from_path(tmp_path)
    assert [p.name for p in snap.pods] == ["p1", "p2", "p3"]
    assert [n.name for n in snap.nodes] == ["n1"] and len(snap.pdbs) == 1


def test_duplicate_across_files_names_both_files(tmp_path: Path) -> None:
    write_json(tmp_path / "1.json", as_list(pod_obj("web-1", "shop")))
    write_json(tmp_path / "2.json", as_list(ns_obj("shop"), pod_obj("web-1", "shop")))
    assert error_of(tmp_path) == (
        f"Pod shop/web-1: duplicate object: defined in both {tmp_path / '1.json'} and {tmp_path / '2.json'}"
    )


def test_duplicate_within_one_file(tmp_path: Path) -> None:
    path = write_json(tmp_path / "x.json", as_list(node_obj("n1"), node_obj("n1")))
    assert error_of(path) == f"Node n1: duplicate object: defined twice in {path}"


def test_object_errors_name_the_file(tmp_path: Path) -> None:
    bad = pod_obj(containers=[{"name": "c", "resources": {"requests": {"cpu": "12x"}}}])
    path = write_json(tmp_path / "pods.json", as_list(bad))
    assert (
        error_of(path)
        == f"{path}: Pod default/web-1: spec.containers[0].resources.requests.cpu: invalid quantity '12x'"
    )


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "kind": "List",\n  "items": [\n    {"kind": "Pod",, }\n  ]\n}\n')
    assert (
        error_of(path)
        == f"{path}: invalid JSON at line 4, column 20: Expecting property name enclosed in double quotes"
    )


def test_truncated_json(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(as_list(node_obj()), indent=2)[:200])
    assert error_of(path).startswith(f"{path}: invalid JSON at line ")


def test_malformed_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("kind: List\nitems:\n  - kind: Pod\n    metadata: {name: [x\n")
    message = error_of(path)
    assert message.startswith(f"{path}: invalid YAML at line 5, column 1: "), message


def test_yaml_tab_indentation(tmp_path: Path) -> None:
    path = tmp_path / "tabs.yaml"
    path.write_text("kind: Node\nmetadata:\n\tname: n1\n")
    assert error_of(path).startswith(f"{path}: invalid YAML at line 3, column 1")


@pytest.mark.parametrize("content", ["", "  \n\n", "---\n", "null\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(content)
    assert "no Kubernetes objects found" in error_of(path)
    assert error_of(path).startswith(str(path))


def test_empty_list_file(tmp_path: Path) -> None:
    path = write_json(tmp_path / "none.json", as_list())
    assert error_of(path) == f"{path}: no Kubernetes objects found"


def test_empty_directory(tmp_path: Path) -> None:
    assert (
        error_of(tmp_path)
        == f"{tmp_path}: no Kubernetes objects found: no *.json, *.yaml or *.yml files in the directory"
    )
    (tmp_path / "notes.txt").write_text("hello")
    assert "no Kubernetes objects found" in error_of(tmp_path)


def test_empty_file_inside_a_directory_is_an_error(tmp_path: Path) -> None:
    """A 0-byte file is most likely a failed `kubectl ... > file`: say so instead of ignoring it."""
    write_json(tmp_path / "nodes.json", as_list(node_obj()))
    (tmp_path / "pods.json").write_text("")
    assert error_of(tmp_path) == f"{tmp_path / 'pods.json'}: file is empty: no Kubernetes objects found"


def test_missing_path(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.json") == f"{tmp_path / 'nope.json'}: no such file or directory"


def test_bad_gzip(tmp_path: Path) -> None:
    path = tmp_path / "dump.json.gz"
    path.write_bytes(b"definitely not gzip")
    assert error_of(path).startswith(f"{path}: cannot read file: ")
    with gzip.open(path, "wb") as f:
        f.write(json.dumps(as_list(node_obj())).encode())
    path.write_bytes(path.read_bytes()[:-12])  # truncated download
    assert error_of(path).startswith(f"{path}: cannot read file: ")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"kind": "Node", "metadata": {"name": "n\xe9"}}')
    assert error_of(path) == f"{path}: not UTF-8 text (byte offset 40)"


def test_scalar_document(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("just a string\n")
    assert error_of(path) == f"{path}: item #1: expected a Kubernetes object (a mapping), got str"


def test_copying_the_data_directory_loads_both_formats_as_duplicates(tmp_path: Path) -> None:
    shutil.copy(DATA / "kubectl_eks_small.json", tmp_path)
    shutil.copy(DATA / "kubectl_eks_small.yaml", tmp_path)
    assert "duplicate object: defined in both" in error_of(tmp_path)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("{}[]:-,'\"\n #&*!|>%@`ab1.?\t")), max_size=60),
    fmt=st.sampled_from(["json", "yaml", ""]),
)
def test_garbage_text_is_a_snapshot_load_error(text: str, fmt: str) -> None:
    try:
        load_snapshot_from_objects(parse_documents(text, "f.txt", fmt))
    except SnapshotLoadError as exc:
        assert str(exc)
