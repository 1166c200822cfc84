"""`ClusterEvidence`: what `kubewise doctor` read through the kubeconfig, as plain recorded data.

Filled by `doctor.cluster_gather.gather_cluster`, turned into findings by the pure
`doctor.cluster_checks.cluster_findings`, and archived by `kubewise debug-bundle`; tests build it by hand
or load it from JSON (`to_json` / `from_json`), so every check can run on recorded state.

It never holds a secret value: of the agent's Secret only the key names are kept, environment values
whose names look secret are replaced, and log lines pass through `doctor.redact.Redactor` as they are
recorded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from kubewise.agent.controller_manifests import CONTROLLER_NAME
from kubewise.agent.manifests import AGENT_NAME, NAMESPACE

__all__ = [
    "AGENT",
    "CONTROLLER",
    "ClusterEvidence",
    "ContainerEvidence",
    "DeploymentEvidence",
    "EventEvidence",
    "NodeEvidence",
    "PodEvidence",
    "ServiceAccountEvidence",
]

AGENT = "agent"
CONTROLLER = "controller"


@dataclass
class ContainerEvidence:
    name: str
    image: str = ""
    ready: bool = False
    restart_count: int = 0
    state: str = ""  # running | waiting | terminated ("" when the kubelet reported none yet)
    waiting_reason: str = ""  # e.g. CrashLoopBackOff, ErrImagePull, CreateContainerConfigError
    waiting_message: str = ""
    last_reason: str = ""  # the last terminated run: Error, OOMKilled, Completed
    last_exit_code: int | None = None
    last_message: str = ""
    logs: list[str] = field(default_factory=list)  # the last lines of the current run (redacted)
    previous_logs: list[str] = field(default_factory=list)  # ... of the run before (after a restart)


@dataclass
class PodEvidence:
    name: str
    component: str  # AGENT | CONTROLLER
    phase: str = ""
    node: str = ""
    reason: str = ""  # the pod's own status reason (Evicted, ...)
    message: str = ""
    containers: list[ContainerEvidence] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """Running with every container ready: its logs say nothing that needs acting on now."""
        return self.phase == "Running" and bool(self.containers) and all(c.ready for c in self.containers)


@dataclass
class DeploymentEvidence:
    name: str
    version: str = ""  # the kubewise.dev/version annotation
    images: dict[str, str] = field(default_factory=dict)  # container -> image
    env: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # container -> name -> value (secret: masked)
    env_from_secrets: list[str] = field(default_factory=list)
    selector: dict[str, Any] = field(default_factory=dict)
    template_labels: dict[str, str] = field(default_factory=dict)
    service_account: str = ""
    replicas: int | None = None
    ready_replicas: int = 0

    def env_value(self, name: str) -> str | None:
        """The first container's value of `name` (None: not set; masked when it looks secret)."""
        for values in self.env.values():
            if name in values:
                return values[name]
        return None


@dataclass
class ServiceAccountEvidence:
    name: str
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class EventEvidence:
    namespace: str
    object_kind: str
    object_name: str
    reason: str
    message: str
    type: str = "Normal"
    count: int = 1
    last_seen: str = ""


@dataclass
class NodeEvidence:
    name: str
    provider_id: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # the provider, region and capacity-type labels


@dataclass
class ClusterEvidence:
    context: str | None = None
    server: str = ""  # the API server's URL, from the kubeconfig
    reachable: bool = True
    error: str = ""  # why the API server could not be used (one line)
    error_kind: str = ""  # kubeconfig | unreachable | timeout | unauthorized | other
    read_errors: dict[str, str] = field(default_factory=dict)  # what could not be read -> why
    namespace: str = NAMESPACE
    pods: list[PodEvidence] = field(default_factory=list)  # the agent's and the controller's
    deployments: list[DeploymentEvidence] = field(default_factory=list)  # in the agent's namespace
    service_accounts: list[ServiceAccountEvidence] = field(default_factory=list)
    secrets: dict[str, list[str]] = field(default_factory=dict)  # Secret -> its key names (never values)
    cluster_roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # kubewise's: name -> rules
    cluster_role_bindings: dict[str, str] = field(default_factory=dict)  # kubewise's: name -> role it binds
    events: list[EventEvidence] = field(default_factory=list)  # recent, in the agent's namespace
    pull_warnings: list[EventEvidence] = field(default_factory=list)  # image pull failures, anywhere
    nodes: list[NodeEvidence] = field(default_factory=list)  # a sample (the first page)
    node_count: int = 0
    api_url: str = ""  # where the agent sends (API_URL)
    cluster_id: str = ""  # the platform's id of this cluster (CLUSTER_ID)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = _ADAPTER.dump_python(self, mode="json")
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ClusterEvidence:
        """The evidence `to_json` wrote; unknown fields are ignored, missing ones take their defaults."""
        return _ADAPTER.validate_python(doc)

    def deployment(self, name: str) -> DeploymentEvidence | None:
        return next((d for d in self.deployments if d.name == name), None)

    @property
    def agent(self) -> DeploymentEvidence | None:
        return self.deployment(AGENT_NAME)

    @property
    def controller(self) -> DeploymentEvidence | None:
        return self.deployment(CONTROLLER_NAME)

    def pods_of(self, component: str) -> list[PodEvidence]:
        return [p for p in self.pods if p.component == component]

    def service_account(self, name: str) -> ServiceAccountEvidence | None:
        return next((s for s in self.service_accounts if s.name == name), None)

    def read(self, what: str) -> bool:
        """Whether `what` (a key of `read_errors`, e.g. "deployments") was read."""
        return self.reachable and what not in self.read_errors

    @property
    def region(self) -> str | None:
        """The cluster's region: the agent's or controller's setting, else the nodes' most common label."""
        for deployment in (self.agent, self.controller):
            for name in ("EKS_REGION", "KOPS_REGION", "AWS_REGION"):
                value = deployment.env_value(name) if deployment else None
                if value:
                    return value
        found = Counter(
            n.labels.get("topology.kubernetes.io/region")
            for n in self.nodes
            if n.labels.get("topology.kubernetes.io/region")
        )
        return found.most_common(1)[0][0] if found else None


_ADAPTER: TypeAdapter[ClusterEvidence] = TypeAdapter(ClusterEvidence)
