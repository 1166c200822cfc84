"""examples/eks-us-east-1.json: up to date with its generator, EKS-consistent, and loadable as a snapshot."""

from __future__ import annotations

import importlib
import json
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kubewise.model import CPU, MEMORY, PODS, Resources, Snapshot
from kubewise.model.loading import load_snapshot_from_path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "eks-us-east-1.json"
MAX_PODS = {"m5.large": 29, "m5.xlarge": 58, "m5.2xlarge": 58, "c5.2xlarge": 58, "r5.xlarge": 58}
VCPU = {"m5.large": 2, "m5.xlarge": 4, "m5.2xlarge": 8, "c5.2xlarge": 8, "r5.xlarge": 4}
RESERVED_CPU_M = {2: 70, 4: 80, 8: 90}  # EKS: 6 % + 1 % + 0.5 % + 0.5 % + 0.25 % per further core


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return load_snapshot_from_path(EXAMPLE)


def _generator() -> ModuleType:
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(EXAMPLES))
        return importlib.import_module("generate_example")


def test_committed_file_is_what_the_generator_writes() -> None:
    gen = _generator()
    doc, _ = gen.build()
    assert gen.dumps(doc) + "\n" == EXAMPLE.read_text(encoding="utf-8")
    assert EXAMPLE.stat().st_size < 1_500_000


def test_kubectl_list_shape_and_sizes(document: dict[str, Any]) -> None:
    assert (document["apiVersion"], document["kind"]) == ("v1", "List")
    kinds = Counter(item["kind"] for item in document["items"])
    assert kinds["Node"] == 25 and 250 <= kinds["Pod"] <= 350 and kinds["PodDisruptionBudget"] >= 5
    phases = Counter(i["status"]["phase"] for i in document["items"] if i["kind"] == "Pod")
    assert phases["Pending"] >= 2 and phases["Succeeded"] >= 2
    spot = [
        n
        for n in document["items"]
        if n["kind"] == "Node" and n["metadata"]["labels"]["eks.amazonaws.com/capacityType"] == "SPOT"
    ]
    assert spot


def test_node_allocatable_follows_the_eks_formulas(document: dict[str, Any]) -> None:
    for node in (i for i in document["items"] if i["kind"] == "Node"):
        itype = node["metadata"]["labels"]["node.kubernetes.io/instance-type"]
        cap, alloc = node["status"]["capacity"], node["status"]["allocatable"]
        assert cap["pods"] == alloc["pods"] == str(MAX_PODS[itype])
        assert cap["cpu"] == str(VCPU[itype])
        assert alloc["cpu"] == f"{VCPU[itype] * 1000 - RESERVED_CPU_M[VCPU[itype]]}m"
        reserved_ki = (11 * MAX_PODS[itype] + 255 + 100) * 1024
        assert int(alloc["memory"].removesuffix("Ki")) == int(cap["memory"].removesuffix("Ki")) - reserved_ki
        zone = node["metadata"]["labels"]["topology.kubernetes.io/zone"]
        assert node["spec"]["providerID"].startswith(f"aws:///{zone}/i-0")


def test_snapshot_loads_with_owners_daemonsets_and_pdbs(snapshot: Snapshot) -> None:
    owners = Counter(p.owner_kind for p in snapshot.pods)
    assert {"Deployment", "StatefulSet", "DaemonSet", "Job"} <= set(owners)
    per_node = Counter(p.node_name for p in snapshot.pods if p.is_daemonset)
    assert set(per_node) == {n.name for n in snapshot.nodes} and set(per_node.values()) == {4}
    assert any(pdb.name == "coredns" for pdb in snapshot.pdbs)
    assert any(p.pod_anti_affinity for p in snapshot.pods) and any(p.topology_spread for p in snapshot.pods)
    assert any(p.node_selector for p in snapshot.pods)
    # the restartable init container (sidecar) is added to the containers' requests
    payments = next(p for p in snapshot.pods if p.owner_name == "payments-api")
    assert payments.requests[CPU] == 600


def test_bound_pods_fit_and_the_cluster_is_over_provisioned(snapshot: Snapshot) -> None:
    used: dict[str, Resources] = defaultdict(Resources)
    for p in snapshot.active_pods:
        if p.node_name:
            used[p.node_name] = used[p.node_name] + p.requests
    for node in snapshot.nodes:
        assert used[node.name].fits_in(node.allocatable), node.name
    cpu = sum(u[CPU] for u in used.values()) / sum(n.allocatable[CPU] for n in snapshot.nodes)
    mem = sum(u[MEMORY] for u in used.values()) / sum(n.allocatable[MEMORY] for n in snapshot.nodes)
    assert 0.40 <= cpu <= 0.55 and mem < 0.5
    assert sum(u[PODS] for u in used.values()) == sum(1 for p in snapshot.active_pods if p.node_name)
