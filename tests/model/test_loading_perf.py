"""A 100k-pod dump must load in seconds (guards against accidental quadratic or per-pod heavy work)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from kubewise.model import load_snapshot_from_objects, load_snapshot_from_path
from kubewise.model.kube_fields import gc_paused

N_PODS = 100_000


def realistic_pod(i: int) -> dict[str, Any]:
    app = f"app-{i % 700}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{app}-7d9f8b6c5-{i:06d}",
            "namespace": f"ns-{i % 50}",
            "uid": f"uid-{i}",
            "labels": {"app": app, "pod-template-hash": "7d9f8b6c5"},
            "ownerReferences": [
                {"kind": "ReplicaSet", "name": f"{app}-7d9f8b6c5", "uid": "x", "controller": True}
            ],
        },
        "spec": {
            "nodeName": f"node-{i % 2000}",
            "containers": [
                {
                    "name": "main",
                    "resources": {
                        "requests": {"cpu": f"{100 + i % 4 * 100}m", "memory": "256Mi"},
                        "limits": {"memory": "1Gi"},
                    },
                },
                {"name": "envoy", "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}},
            ],
            "initContainers": [{"name": "init", "resources": {"requests": {"cpu": "10m"}}}],
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
            ],
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": {"app": app}},
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
        "status": {"phase": "Running"},
    }


@pytest.mark.slow
def test_100k_pods_load_in_seconds(tmp_path: Path) -> None:
    with gc_paused():  # building the input is not what is measured
        items = [realistic_pod(i) for i in range(N_PODS)]
    started = time.perf_counter()
    snap = load_snapshot_from_objects(items)
    elapsed = time.perf_counter() - started
    assert len(snap.pods) == N_PODS
    assert snap.pods[7].requests["cpu"] == 100 + 7 % 4 * 100 + 50
    assert elapsed < 20, f"parsing {N_PODS} pods took {elapsed:.1f}s (about 3s expected)"

    path = tmp_path / "dump.json"
    path.write_text(json.dumps({"kind": "List", "items": items}))
    del items, snap
    started = time.perf_counter()
    assert len(load_snapshot_from_path(path).pods) == N_PODS
    elapsed = time.perf_counter() - started
    assert elapsed < 30, f"loading a {N_PODS}-pod JSON dump took {elapsed:.1f}s (about 5s expected)"
