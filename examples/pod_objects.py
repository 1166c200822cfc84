"""Pod objects for the example cluster, as `kubectl get pods -o json` shows them (spec and status).

Used only by `generate_example.py`, which decides where each pod runs and passes it as a `Placement`.
"""

from __future__ import annotations

from dataclasses import dataclass

from k8s_objects import JSON, Ctr, Ids, Workload

_DEFAULT_TOLERATIONS = [
    {
        "effect": "NoExecute",
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "tolerationSeconds": 300,
    },
    {
        "effect": "NoExecute",
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "tolerationSeconds": 300,
    },
]
_DAEMONSET_TOLERATIONS = [
    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists"},
    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/disk-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/memory-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/pid-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
]
_PRIORITY = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}


@dataclass
class Placement:
    """Where a pod ended up: node and host IP, pod IP, phase and (if Pending) the scheduler's message."""

    phase: str
    node: str = ""
    host_ip: str = ""
    pod_ip: str = ""
    message: str = ""


def _affinity(w: Workload, node: str) -> JSON:
    affinity: JSON = {}
    if w.kind == "DaemonSet":
        term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
        affinity["nodeAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    if w.anti_affinity:
        affinity["podAntiAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": w.app_labels}, "topologyKey": "kubernetes.io/hostname"}
            ]
        }
    return affinity


def _container_status(ids: Ids, c: Ctr, where: Placement, started: str) -> JSON:
    if where.phase == "Succeeded":
        state: JSON = {
            "terminated": {"exitCode": 0, "finishedAt": started, "reason": "Completed", "startedAt": started}
        }
    else:
        state = {"running": {"startedAt": started}}
    running = where.phase == "Running"
    return {
        "containerID": "containerd://" + ids.hex(64),
        "image": c.image,
        "name": c.name,
        "ready": running,
        "restartCount": 0,
        "started": running,
        "state": state,
    }


def pod_object(
    ids: Ids, w: Workload, name: str, labels: dict[str, str], owner: JSON | None, where: Placement
) -> JSON:
    """A pod of workload `w` as `kubectl get pods -o json` shows it, bound (or not) as `where` says."""
    created = ids.time(14, 0.2)
    token = "kube-api-access-" + ids.suffix()
    mounts = [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": token, "readOnly": True}]
    volumes: list[JSON] = [
        {
            "name": token,
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {
                        "configMap": {
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            "name": "kube-root-ca.crt",
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    "path": "namespace",
                                }
                            ]
                        }
                    },
                ],
            },
        }
    ]
    if w.empty_dir:
        volumes.insert(0, {"emptyDir": {}, "name": "scratch"})
        mounts.append({"mountPath": "/scratch", "name": "scratch"})
    spec: JSON = {"containers": [{**c.spec(), "volumeMounts": mounts} for c in w.containers]}
    if w.init:
        spec["initContainers"] = [{**c.spec(), "volumeMounts": mounts} for c in w.init]
    affinity = _affinity(w, where.node)
    if affinity:
        spec["affinity"] = affinity
    spec["dnsPolicy"] = "ClusterFirstWithHostNet" if w.host_network else "ClusterFirst"
    spec["enableServiceLinks"] = True
    if w.host_network:
        spec["hostNetwork"] = True
    if where.node:
        spec["nodeName"] = where.node
    if w.node_selector:
        spec["nodeSelector"] = dict(w.node_selector)
    spec["preemptionPolicy"] = "PreemptLowerPriority"
    spec["priority"] = _PRIORITY.get(w.priority_class, 0)
    if w.priority_class:
        spec["priorityClassName"] = w.priority_class
    spec["restartPolicy"] = "Never" if w.kind == "Job" else "Always"
    spec["schedulerName"] = "default-scheduler"
    spec["securityContext"] = {}
    spec["serviceAccount"] = spec["serviceAccountName"] = w.name if w.kind == "DaemonSet" else "default"
    spec["terminationGracePeriodSeconds"] = 30
    base = _DAEMONSET_TOLERATIONS if w.kind == "DaemonSet" else _DEFAULT_TOLERATIONS
    spec["tolerations"] = w.tolerations + base
    if w.zone_spread:
        spec["topologySpreadConstraints"] = [
            {
                "labelSelector": {"matchLabels": w.app_labels},
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
            }
        ]
    spec["volumes"] = volumes

    requested = any(c.cpu_m or c.mem_mi for c in w.containers + w.init)
    status: JSON = {"phase": where.phase, "qosClass": "Burstable" if requested else "BestEffort"}
    if where.phase == "Pending":
        status["conditions"] = [
            {
                "lastProbeTime": None,
                "lastTransitionTime": created,
                "message": where.message,
                "reason": "Unschedulable",
                "status": "False",
                "type": "PodScheduled",
            }
        ]
    else:
        started = ids.time(0.2, 0.0) if where.phase == "Running" else created
        done = where.phase == "Succeeded"
        status["conditions"] = [
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": "False" if done else "True",
                "type": "PodReadyToStartContainers",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": "True",
                "type": "Initialized",
                **({"reason": "PodCompleted"} if done else {}),
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": "False" if done else "True",
                "type": "Ready",
                **({"reason": "PodCompleted"} if done else {}),
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": "False" if done else "True",
                "type": "ContainersReady",
                **({"reason": "PodCompleted"} if done else {}),
            },
            {"lastProbeTime": None, "lastTransitionTime": created, "status": "True", "type": "PodScheduled"},
        ]
        status["containerStatuses"] = [_container_status(ids, c, where, started) for c in w.containers]
        status["hostIP"] = where.host_ip
        status["hostIPs"] = [{"ip": where.host_ip}]
        status["podIP"] = where.pod_ip
        status["podIPs"] = [{"ip": where.pod_ip}]
        status["startTime"] = started
    metadata: JSON = {"creationTimestamp": created, "labels": labels, "name": name, "namespace": w.namespace}
    if owner is not None:
        if w.kind != "StatefulSet":
            metadata["generateName"] = name.rsplit("-", 1)[0] + "-"
        metadata["ownerReferences"] = [owner]
    metadata["resourceVersion"] = str(ids.rng.randint(10_000_000, 99_999_999))
    metadata["uid"] = ids.uid()
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}
