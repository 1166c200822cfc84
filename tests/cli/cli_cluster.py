"""A small EKS cluster as kubectl prints it, dump writers, and the JSON-contract checks of `kubewise savings`.

Shared by the tests in `tests/cli`. The cluster is tiny (so each CLI run plans in well under a second) but
has every kind of pod the contract talks about: Deployment pods with hostname anti-affinity, zone-spread
pods, DaemonSet pods on every node, a static (mirror) pod, a finished Job pod, a pending pod, and a pod no
instance type can run (64 GPUs), plus a spot node and a PDB.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from click.testing import Result
from typer.testing import CliRunner

from kubewise.catalog.loading import load_region
from kubewise.cli.main import app
from kubewise.model import Snapshot, load_snapshot_from_objects

REGION = "us-east-1"
GPU_POD = "ml/train-0"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "savings-json.md"

_ALLOCATABLE = {  # EKS values: ENI max pods, kube-reserved cpu/memory, 100 MiB eviction
    "m5.xlarge": ({"cpu": "4", "memory": "16012836Ki", "pods": "58"}, "3920m", "14996004Ki"),
    "m5.large": ({"cpu": "2", "memory": "7910956Ki", "pods": "29"}, "1930m", "7220780Ki"),
}


def node(name: str, itype: str, zone: str, *, spot: bool = False, **extra_labels: str) -> dict[str, Any]:
    capacity, cpu, memory = _ALLOCATABLE.get(
        itype, ({"cpu": "4", "memory": "16Gi", "pods": "58"}, "3", "14Gi")
    )
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": itype,
        "topology.kubernetes.io/region": REGION,
        "topology.kubernetes.io/zone": zone,
        "eks.amazonaws.com/nodegroup": "spot" if spot else "general",
        "eks.amazonaws.com/capacityType": "SPOT" if spot else "ON_DEMAND",
        **extra_labels,
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {"providerID": f"aws:///{zone}/i-{name}"},
        "status": {"capacity": capacity, "allocatable": {**capacity, "cpu": cpu, "memory": memory}},
    }


def pod(
    name: str,
    namespace: str = "default",
    *,
    cpu: str = "250m",
    memory: str = "512Mi",
    node_name: str | None = None,
    phase: str = "Running",
    labels: dict[str, str] | None = None,
    owner: tuple[str, str] | None = None,
    spec: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
    extra_requests: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels or {}}
    if owner is not None:
        api = "batch/v1" if owner[0] == "Job" else "apps/v1"
        ref = {
            "apiVersion": api,
            "kind": owner[0],
            "name": owner[1],
            "uid": f"uid-{owner[1]}",
            "controller": True,
        }
        meta["ownerReferences"] = [ref]
    if annotations:
        meta["annotations"] = annotations
    requests = {"cpu": cpu, "memory": memory, **(extra_requests or {})}
    body: dict[str, Any] = {"containers": [{"name": "main", "resources": {"requests": requests}}]}
    if node_name is not None:
        body["nodeName"] = node_name
    body.update(spec or {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": body, "status": {"phase": phase}}


def _anti_affinity(app: str) -> dict[str, Any]:
    term = {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": "kubernetes.io/hostname"}
    return {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}}


def _zone_spread(app: str) -> dict[str, Any]:
    constraint = {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": app}},
    }
    return {"topologySpreadConstraints": [constraint]}


def cluster_objects() -> list[dict[str, Any]]:
    """Nodes, pods and a PDB of the small test cluster (fresh dicts on every call)."""
    nodes = [
        node("ip-10-0-1-10.ec2.internal", "m5.xlarge", "us-east-1a"),
        node("ip-10-0-2-20.ec2.internal", "m5.xlarge", "us-east-1b"),
        node("ip-10-0-3-30.ec2.internal", "m5.large", "us-east-1c", spot=True),
    ]
    names = [n["metadata"]["name"] for n in nodes]
    pods = []
    for i, name in enumerate(names):
        web = {"app": "web", "pod-template-hash": "5d9c7"}
        pods.append(pod(f"web-5d9c7-{i}", labels=web, owner=("ReplicaSet", "web-5d9c7"), node_name=name,
                        spec=_anti_affinity("web")))  # fmt: skip
        pods.append(pod(f"api-{i}", "shop", cpu="300m", labels={"app": "api"}, owner=("StatefulSet", "api"),
                        node_name=name, spec=_zone_spread("api")))  # fmt: skip
        pods.append(pod(f"kube-proxy-{i}", "kube-system", cpu="100m", memory="64Mi", node_name=name,
                        labels={"k8s-app": "kube-proxy"}, owner=("DaemonSet", "kube-proxy"),
                        spec={"tolerations": [{"operator": "Exists"}]}))  # fmt: skip
    pods.append(pod(f"etcd-backup-{names[0]}", "kube-system", cpu="50m", node_name=names[0],
                    annotations={"kubernetes.io/config.mirror": "abc"}))  # fmt: skip
    pods.append(pod("report-28711", "batch", node_name=names[1], phase="Succeeded", owner=("Job", "report")))
    pods.append(pod("resize-1", "batch", cpu="1", memory="2Gi", phase="Pending", owner=("Job", "resize")))
    pods.append(pod("train-0", "ml", cpu="8", memory="32Gi", phase="Pending", owner=("StatefulSet", "train"),
                    extra_requests={"nvidia.com/gpu": "64"}))  # fmt: skip
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    }
    return [*nodes, *pods, pdb]


def as_list(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """`kubectl get ... -o json` output: a v1 List."""
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": objects}


def write_dump(path: Path, objects: list[dict[str, Any]]) -> Path:
    """Write `objects` as a kubectl List in the format the file name says (.json, .yaml, optionally .gz)."""
    doc = as_list(objects)
    name = path.name.removesuffix(".gz")
    text = yaml.safe_dump(doc) if name.endswith((".yaml", ".yml")) else json.dumps(doc, indent=1)
    data = text.encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def snapshot_of(objects: list[dict[str, Any]]) -> Snapshot:
    return load_snapshot_from_objects(objects)


def movable_pod_keys(snapshot: Snapshot) -> set[str]:
    """Pods a plan must place: not finished, not DaemonSet pods, not static pods."""
    return {p.key for p in snapshot.active_pods if not p.is_daemonset and not p.is_mirror}


def check_plans(doc: dict[str, Any], snapshot: Snapshot) -> None:
    """The guarantees of docs/savings-json.md, for every plan of a `--output json` document."""
    catalog = load_region(doc["provider"], doc["region"])
    movable = movable_pod_keys(snapshot)
    assert doc["plans"], "at least the on-demand plan"
    for plan in doc["plans"]:
        placed = [key for n in plan["nodes"] for key in n["pods"]]
        placed += [u["pod"] for u in plan["unschedulable"]]
        twice = [key for key, n in Counter(placed).items() if n > 1]
        assert not twice, f"{plan['name']}: pods listed more than once: {twice}"
        assert set(placed) == movable, f"{plan['name']}: missing {movable - set(placed)}"
        for n in plan["nodes"]:
            assert n["capacity_type"] in ("on-demand", "spot")
            itype = catalog.get(n["instance_type"])
            assert itype is not None, n["instance_type"]
            assert n["hourly_price"] == itype.price(n["capacity_type"])
        assert abs(plan["hourly_cost"] - sum(n["hourly_price"] for n in plan["nodes"])) <= 1e-6
        assert plan["lower_bound"] <= plan["hourly_cost"] + 1e-9
        assert all(u["reason"] for u in plan["unschedulable"])
        if plan["name"] == "on-demand":
            assert {n["capacity_type"] for n in plan["nodes"]} <= {"on-demand"}


def check_current(doc: dict[str, Any]) -> None:
    """Current nodes priced at the catalog's price for their type and capacity type, or reported unpriced."""
    catalog = load_region(doc["provider"], doc["region"])
    current = doc["current"]
    for n in current["nodes"]:
        assert n["priced"] == (n["hourly_price"] is not None)
        if n["priced"]:
            itype = catalog.lookup(n["instance_type"])
            assert itype is not None
            assert n["hourly_price"] in (itype.price(n["capacity_type"]), itype.on_demand_price)
        else:
            assert n["note"], "an unpriced node says why"
    priced = sum(n["hourly_price"] for n in current["nodes"] if n["priced"])
    assert abs(current["hourly_cost"] - priced) <= 1e-6
    assert current["complete"] == all(n["priced"] for n in current["nodes"])


def documented_example() -> Any:
    """The JSON example of docs/savings-json.md, its `//` comments removed."""
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"```jsonc\n(.*?)```", text, re.S)
    assert block is not None, "docs/savings-json.md has no jsonc example"
    return json.loads(re.sub(r"\s*//[^\n]*", "", block.group(1)))


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    """`kubewise <args>` in-process; stdout and stderr captured separately."""
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200", **(env or {})})


def run_json(*args: str | Path) -> Any:
    """`kubewise <args> --output json`, checked to succeed with nothing on stderr; the parsed document."""
    result = run(*args, "--output", "json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def failure(*args: str | Path, code: int) -> str:
    """Run a command that must fail with `code` and one `error:` line (no traceback); that line."""
    result = run(*args)
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0].removeprefix("error: ")
