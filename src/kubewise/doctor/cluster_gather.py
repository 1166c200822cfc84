"""Read what `kubewise doctor` needs from a cluster through the kubeconfig: `gather_cluster`.

Called by doctor's orchestration (and `kubewise debug-bundle`). Read-only: list calls in the agent's
namespace (pods, Deployments, ServiceAccounts, Secrets, Events), kubewise's ClusterRoles and bindings,
the first page of nodes, Warning events anywhere, and the last lines of the agent's and controller's
container logs. It never raises for a cluster that cannot be read: an unreachable or rejecting API
server, or a read the kubeconfig user is forbidden, is recorded in the evidence for the checks to name.

`agent_credentials` reads the agent's API URL and key for the key probe; the key is returned to the
caller only and never enters the evidence.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from kubewise.agent.cluster_reader import ClusterReadError, connect_api
from kubewise.agent.controller_manifests import CONTROLLER_NAME
from kubewise.agent.manifests import AGENT_NAME, NAMESPACE
from kubewise.doctor.cluster_evidence import (
    AGENT,
    CONTROLLER,
    ClusterEvidence,
    ContainerEvidence,
    DeploymentEvidence,
    EventEvidence,
    NodeEvidence,
    PodEvidence,
    ServiceAccountEvidence,
)
from kubewise.doctor.redact import Redactor

__all__ = ["LOG_LINES", "agent_credentials", "gather_cluster"]

LOG_LINES = 200  # per container and run
TIMEOUT = (5, 20)  # seconds: connect, read -- doctor must answer even when the API server does not
_NODE_SAMPLE = 100
_MAX_EVENTS = 50
_MAX_PODS = 5  # per component: a Deployment gone wrong can leave many
_PROVIDER_LABELS = (
    "eks.amazonaws.com/",
    "alpha.eksctl.io/",
    "kops.k8s.io/",
    "cloud.google.com/",
    "kubernetes.azure.com/",
    "karpenter.sh/",
    "topology.kubernetes.io/",
    "node.kubernetes.io/instance-type",
    "scheduling.kubewise.dev/",
)
_PULL_REASONS = {"ErrImagePull", "ImagePullBackOff", "Failed", "BackOff", "FailedToRetrieveImagePullSecret"}


class _Stop(Exception):
    """The API server cannot be used at all: nothing more is read."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:500]


def _api_message(exc: ApiException) -> str:
    try:
        return _one_line(json.loads(exc.body or "").get("message", ""))
    except (ValueError, AttributeError, TypeError):
        return _one_line(exc.reason or "")


def _connection_stop(host: str, exc: Exception) -> _Stop:
    reason = getattr(exc, "reason", None) or exc
    refused = isinstance(reason, urllib3.exceptions.NewConnectionError)
    timed_out = isinstance(reason, urllib3.exceptions.TimeoutError | TimeoutError) and not refused
    kind = "timeout" if timed_out else "unreachable"
    what = "did not answer in time" if timed_out else "could not be reached"
    return _Stop(kind, f"the API server at {host} {what} ({_one_line(reason)})")


class _Reader:
    """List calls that record what fails instead of raising (except when nothing can be read)."""

    def __init__(self, api: client.ApiClient, ev: ClusterEvidence) -> None:
        self.api, self.ev = api, ev
        self.core, self.apps = client.CoreV1Api(api), client.AppsV1Api(api)
        self.rbac = client.RbacAuthorizationV1Api(api)
        self.redactor = Redactor()

    def call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """The JSON answer as sent -- not the client's models, whose validation rejects objects an API
        server may well send (doctor reads clusters in any state)."""
        host = self.api.configuration.host
        try:
            answer = method(*args, _request_timeout=TIMEOUT, _preload_content=False, **kwargs)
            doc = json.loads(answer.data)
        except ApiException as exc:
            if exc.status == 0:  # the client's word for a TLS failure before any HTTP answer
                raise _Stop("unreachable", f"the API server at {host}: {_one_line(exc.reason)}") from None
            if exc.status == 401:
                raise _Stop(
                    "unauthorized",
                    f"the API server rejected the kubeconfig credentials (401): {_api_message(exc)}",
                ) from None
            self.ev.read_errors[what] = f"{exc.status} {exc.reason or ''}: {_api_message(exc)}".strip()
            return None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _connection_stop(host, exc) from None
        except ValueError as exc:
            self.ev.read_errors[what] = f"not a Kubernetes API answer: {_one_line(exc)}"
            return None
        return doc if isinstance(doc, dict) else None

    def items(
        self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> list[dict[str, Any]] | None:
        kwargs.setdefault("limit", 500)
        result = self.call(what, method, *args, **kwargs)
        if result is None:
            return None
        items = result.get("items") or []
        return [i for i in items if isinstance(i, dict) and isinstance(i.get("metadata"), dict)]


def _container(status: dict[str, Any]) -> ContainerEvidence:
    state = status.get("state") or {}
    now = next(iter(state), "")
    waiting = state.get("waiting") or {}
    last = (status.get("lastState") or {}).get("terminated") or {}
    return ContainerEvidence(
        name=str(status.get("name", "")),
        image=str(status.get("image", "")),
        ready=bool(status.get("ready")),
        restart_count=int(status.get("restartCount") or 0),
        state=now,
        waiting_reason=str(waiting.get("reason") or ""),
        waiting_message=_one_line(waiting.get("message") or ""),
        last_reason=str(last.get("reason") or ""),
        last_exit_code=last.get("exitCode"),
        last_message=_one_line(last.get("message") or ""),
    )


def _component(pod: dict[str, Any]) -> str | None:
    meta = pod.get("metadata") or {}
    name, label = str(meta.get("name", "")), (meta.get("labels") or {}).get("app.kubernetes.io/name")
    if label == CONTROLLER_NAME or name.startswith(f"{CONTROLLER_NAME}-"):
        return CONTROLLER
    if label == AGENT_NAME or name.startswith(f"{AGENT_NAME}-"):
        return AGENT
    return None


def _pod(reader: _Reader, obj: dict[str, Any], component: str) -> PodEvidence:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or []}
    containers = []
    for declared in spec.get("containers") or []:
        name = declared.get("name", "")
        found = statuses.get(name)
        container = (
            _container(found) if found else ContainerEvidence(name=name, image=declared.get("image", ""))
        )
        container.logs = _logs(reader, meta["name"], name, previous=False)
        if container.restart_count:
            container.previous_logs = _logs(reader, meta["name"], name, previous=True)
        containers.append(container)
    return PodEvidence(
        name=str(meta.get("name", "")),
        component=component,
        phase=str(status.get("phase") or ""),
        node=str(spec.get("nodeName") or ""),
        reason=str(status.get("reason") or ""),
        message=_one_line(status.get("message") or ""),
        containers=containers,
    )


def _logs(reader: _Reader, pod: str, container: str, *, previous: bool) -> list[str]:
    what = f"logs of {pod}/{container}{' (previous)' if previous else ''}"
    try:
        # raw bytes: the client would json-decode a log that happens to be one JSON line, and mangle it
        answer = reader.core.read_namespaced_pod_log(
            pod,
            NAMESPACE,
            container=container,
            tail_lines=LOG_LINES,
            previous=previous,
            _request_timeout=TIMEOUT,
            _preload_content=False,
        )
        text = bytes(answer.data).decode("utf-8", errors="replace")
    except ApiException as exc:
        if not (previous and exc.status == 400):  # no run before: nothing to record
            reader.ev.read_errors[what] = f"{exc.status}: {_api_message(exc)}"
        return []
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        reader.ev.read_errors[what] = _one_line(exc)
        return []
    return [reader.redactor.text(line) for line in text.splitlines()[-LOG_LINES:]]


def _env(reader: _Reader, container: dict[str, Any]) -> dict[str, str]:
    out = {}
    for entry in container.get("env") or []:
        name = str(entry.get("name", ""))
        if "value" in entry:
            out[name] = str(reader.redactor.document({"name": name, "value": str(entry["value"])})["value"])
        else:
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef") or {}
            out[name] = f"<from Secret {ref.get('name')}/{ref.get('key')}>" if ref else "<from a reference>"
    return out


def _deployment(reader: _Reader, obj: dict[str, Any]) -> DeploymentEvidence:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    template = spec.get("template") or {}
    pod_spec = template.get("spec") or {}
    containers = pod_spec.get("containers") or []
    secrets = [
        str(src["secretRef"].get("name"))
        for c in containers
        for src in c.get("envFrom") or []
        if src.get("secretRef")
    ]
    return DeploymentEvidence(
        name=str(meta.get("name", "")),
        version=str((meta.get("annotations") or {}).get("kubewise.dev/version", "")),
        images={str(c.get("name")): str(c.get("image", "")) for c in containers},
        env={str(c.get("name")): _env(reader, c) for c in containers},
        env_from_secrets=secrets,
        selector=dict(spec.get("selector") or {}),
        template_labels=dict((template.get("metadata") or {}).get("labels") or {}),
        service_account=str(pod_spec.get("serviceAccountName") or ""),
        replicas=spec.get("replicas"),
        ready_replicas=int((obj.get("status") or {}).get("readyReplicas") or 0),
    )


def _event(obj: dict[str, Any]) -> EventEvidence:
    involved = obj.get("involvedObject") or {}
    return EventEvidence(
        namespace=str((obj.get("metadata") or {}).get("namespace") or ""),
        object_kind=str(involved.get("kind") or ""),
        object_name=str(involved.get("name") or ""),
        reason=str(obj.get("reason") or ""),
        message=_one_line(obj.get("message") or ""),
        type=str(obj.get("type") or "Normal"),
        count=int(obj.get("count") or 1),
        last_seen=str(obj.get("lastTimestamp") or obj.get("eventTime") or ""),
    )


def _recent(events: list[dict[str, Any]]) -> list[EventEvidence]:
    found = sorted((_event(e) for e in events), key=lambda e: e.last_seen)
    return found[-_MAX_EVENTS:]


def _node(obj: dict[str, Any]) -> NodeEvidence:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return NodeEvidence(
        name=str((obj.get("metadata") or {}).get("name", "")),
        provider_id=str((obj.get("spec") or {}).get("providerID") or ""),
        labels={k: str(v) for k, v in labels.items() if k.startswith(_PROVIDER_LABELS)},
    )


def _read_nodes(reader: _Reader) -> None:
    listed = reader.call("nodes", reader.core.list_node, limit=_NODE_SAMPLE)
    if listed is None:
        return
    items = [n for n in listed.get("items") or [] if isinstance(n, dict)]
    reader.ev.nodes = [_node(n) for n in items]
    remaining = (listed.get("metadata") or {}).get("remainingItemCount")
    reader.ev.node_count = len(items) + int(remaining or 0)


def _read_namespace(reader: _Reader) -> list[dict[str, Any]]:
    """Pods, Deployments, ServiceAccounts and Events of the agent's namespace; returns its Secrets."""
    ev = reader.ev
    deployments = reader.items("deployments", reader.apps.list_namespaced_deployment, NAMESPACE) or []
    ev.deployments = [_deployment(reader, d) for d in deployments]
    accounts = reader.items("serviceaccounts", reader.core.list_namespaced_service_account, NAMESPACE) or []
    ev.service_accounts = [
        ServiceAccountEvidence(
            name=str(a["metadata"].get("name", "")), annotations=dict(a["metadata"].get("annotations") or {})
        )
        for a in accounts
    ]
    secrets = reader.items("secrets", reader.core.list_namespaced_secret, NAMESPACE) or []
    ev.secrets = {
        str(s["metadata"].get("name")): sorted({*(s.get("data") or {}), *(s.get("stringData") or {})})
        for s in secrets
    }
    ev.events = _recent(reader.items("events", reader.core.list_namespaced_event, NAMESPACE) or [])
    pods = reader.items("pods", reader.core.list_namespaced_pod, NAMESPACE) or []
    counted: dict[str, int] = {}
    for obj in pods:
        component = _component(obj)
        if component is not None and counted.get(component, 0) < _MAX_PODS:
            counted[component] = counted.get(component, 0) + 1
            ev.pods.append(_pod(reader, obj, component))
    return secrets


def _read_rbac(reader: _Reader) -> None:
    ours = (AGENT_NAME, CONTROLLER_NAME)
    roles = reader.items("clusterroles", reader.rbac.list_cluster_role)
    if roles is not None:
        reader.ev.cluster_roles = {
            r["metadata"]["name"]: list(r.get("rules") or [])
            for r in roles
            if r["metadata"].get("name") in ours
        }
    bindings = reader.items("clusterrolebindings", reader.rbac.list_cluster_role_binding)
    if bindings is not None:
        reader.ev.cluster_role_bindings = {
            b["metadata"]["name"]: str((b.get("roleRef") or {}).get("name", ""))
            for b in bindings
            if b["metadata"].get("name") in ours
        }


def _read_pull_warnings(reader: _Reader) -> None:
    warnings = reader.items(
        "warning events", reader.core.list_event_for_all_namespaces, field_selector="type=Warning"
    )
    pulls = [
        e
        for e in warnings or []
        if e.get("reason") in _PULL_REASONS and "pull" in str(e.get("message", "")).lower()
    ]
    reader.ev.pull_warnings = _recent(pulls)


def _decoded(secret: dict[str, Any], key: str) -> str:
    raw = (secret.get("data") or {}).get(key)
    if raw is None:
        return str((secret.get("stringData") or {}).get(key) or "")
    try:
        return base64.b64decode(raw).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _identity(ev: ClusterEvidence, secrets: list[dict[str, Any]]) -> None:
    """API_URL and CLUSTER_ID: the agent's environment, else its Secret (both are not secret)."""
    agent = ev.agent
    secret = next((s for s in secrets if s["metadata"].get("name") == AGENT_NAME), {})
    ev.api_url = (agent.env_value("API_URL") if agent else None) or _decoded(secret, "API_URL")
    ev.cluster_id = (agent.env_value("CLUSTER_ID") if agent else None) or _decoded(secret, "CLUSTER_ID")


def gather_cluster(context: str | None, kubeconfig: str | None) -> ClusterEvidence:
    """Everything doctor checks in the cluster of `context` (None: the current one) of `kubeconfig`
    (None: $KUBECONFIG or ~/.kube/config). Read-only; never raises for a cluster that cannot be read."""
    ev = ClusterEvidence(context=context)
    try:
        api = connect_api(context, kubeconfig)
    except ClusterReadError as exc:
        ev.reachable, ev.error_kind, ev.error = False, "kubeconfig", str(exc)
        return ev
    ev.server = str(api.configuration.host)
    reader = _Reader(api, ev)
    try:
        _read_nodes(reader)
        secrets = _read_namespace(reader)
        _identity(ev, secrets)
        _read_rbac(reader)
        _read_pull_warnings(reader)
    except _Stop as stop:
        ev.reachable, ev.error_kind, ev.error = False, stop.kind, str(stop)
    finally:
        api.close()
    return ev


def agent_credentials(context: str | None, kubeconfig: str | None) -> tuple[str, str] | None:
    """The agent's (API URL, API key), read from its Deployment and Secret; None when either cannot be
    read. For the key probe only: never put the key in evidence, output or logs."""
    try:
        api = connect_api(context, kubeconfig)
    except ClusterReadError:
        return None
    reader = _Reader(api, ClusterEvidence(context=context))
    try:
        secrets = reader.items(
            "secrets",
            reader.core.list_namespaced_secret,
            NAMESPACE,
            field_selector=f"metadata.name={AGENT_NAME}",
        )
        deployments = reader.items("deployments", reader.apps.list_namespaced_deployment, NAMESPACE) or []
    except _Stop:
        return None
    finally:
        api.close()
    reader.ev.deployments = [_deployment(reader, d) for d in deployments]
    _identity(reader.ev, secrets or [])
    key = _decoded(next(iter(secrets or []), {}), "API_KEY")
    return (reader.ev.api_url, key) if reader.ev.api_url and key else None
