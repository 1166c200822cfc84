"""`cluster_findings`: every cluster check on recorded `ClusterEvidence` -- pure, deterministic.

Called by doctor's orchestration with the evidence `doctor.cluster_gather.gather_cluster` read (or a
recorded one). A check runs only when what it looks at could be read (the API server answered and the
kubeconfig user could list it); the names of those that ran are returned beside the findings, and
`ev.read_errors` says what could not be read. This module holds the checks on reachability, pod
states, the controller and image pulls; the agent's log causes and the install checks are in
`cluster_checks_agent` and `cluster_checks_install`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kubewise.agent.controller_manifests import CONTROLLER_NAME
from kubewise.agent.manifests import AGENT_NAME, NAMESPACE
from kubewise.doctor import cluster_checks_agent as causes
from kubewise.doctor import cluster_checks_install as install
from kubewise.doctor.cluster_evidence import AGENT, CONTROLLER, ClusterEvidence, EventEvidence
from kubewise.doctor.cluster_pods import (
    failing,
    failing_lines,
    last_match,
    node_provider,
    pod_states,
    state_phrase,
)
from kubewise.doctor.findings import Finding

__all__ = ["CHECKS", "cluster_findings"]

Check = Callable[[ClusterEvidence], list[Finding]]

_PULL_401 = re.compile(
    r"401 Unauthorized|failed to fetch oauth token|unauthorized: authentication required", re.I
)
_PULL_FAILED = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName"}
_CONTROLLER_KEY = re.compile(
    r"controller failed: (the platform rejected the API key \(401\)"
    r"|the platform refused .*\((401|403)\)|no API key)"
)
_CONTROLLER_SETTINGS = re.compile(r"controller failed: set (.+) on the controller")
_IMAGE = re.compile(r"(?:pull and unpack image|pull image) \\?\"([^\"\\]+)")


def api_reachable(ev: ClusterEvidence) -> list[Finding]:
    if ev.reachable:
        return []
    if ev.error_kind == "kubeconfig":
        fix = "Pass --context/--kubeconfig, or refresh the kubeconfig (e.g. `aws eks update-kubeconfig`)."
        return [
            Finding("cluster.kubeconfig-invalid", "error", "The kubeconfig cannot be used", ev.error, fix)
        ]
    if ev.error_kind == "unauthorized":
        cause = f"The API server at {ev.server} rejects the kubeconfig's credentials: {ev.error}."
        fix = "Log in again or renew the token (e.g. `aws eks update-kubeconfig --name CLUSTER`)."
        return [
            Finding(
                "cluster.api-credentials-rejected",
                "error",
                "The API server rejects your credentials",
                cause,
                fix,
            )
        ]
    cause = (
        f"The Kubernetes API server at {ev.server or 'the kubeconfig server'} cannot be reached from here: "
        f"{ev.error}. A firewall, a private-only endpoint or authorized-network rules block the connection."
    )
    fix = (
        "Allow access to the API server from where doctor and the kubewise platform run (EKS public endpoint "
        "access CIDRs, GKE master authorized networks, AKS authorized IP ranges, security groups), then "
        "run doctor again."
    )
    title = "No access to Kubernetes API server, please check your firewall settings"
    return [Finding("cluster.api-unreachable", "error", title, cause, fix, (ev.error,))]


def _pull_fix(ev: ClusterEvidence, message: str) -> str:
    registry = re.search(r"([a-z0-9-]+)\.azurecr\.io", message)
    if node_provider(ev) == "aks" or registry:
        acr = registry.group(1) if registry else "ACR_NAME"
        return (
            "The nodes' kubelet identity needs the AcrPull role on the registry: "
            f"`az aks update -n CLUSTER -g RESOURCE_GROUP --attach-acr {acr}` (or `az role assignment "
            "create --assignee KUBELET_IDENTITY --role AcrPull "
            f"--scope $(az acr show -n {acr} --query id -o tsv)`); new nodes then pull."
        )
    return (
        "Give the pods pull credentials for that registry: an imagePullSecret on the pod or its "
        "ServiceAccount (`kubectl create secret docker-registry ...`), or registry read access for the node "
        "role (ECR: AmazonEC2ContainerRegistryReadOnly; GKE: Artifact Registry Reader for the node "
        "service account)."
    )


def image_pull_unauthorized(ev: ClusterEvidence) -> list[Finding]:
    seen: dict[tuple[str, str], EventEvidence] = {}
    for event in (*ev.events, *ev.pull_warnings):
        if event.type == "Warning" and _PULL_401.search(event.message):
            seen[(event.namespace, event.object_name)] = event
    if not seen:
        return []
    images = sorted({m.group(1) for e in seen.values() if (m := _IMAGE.search(e.message))})
    first = next(iter(seen.values()))
    cause = (
        "Nodes cannot pull images from a private registry: it answers 401 Unauthorized (failed to fetch "
        "oauth token) because the identity pulling them has no pull permission there -- typical for nodes "
        f"created after onboarding{(': ' + ', '.join(images)) if images else ''}."
    )
    evidence = tuple(f"{e.namespace}/{e.object_name}: {e.message}"[:400] for e in seen.values())[:5]
    title = "Images cannot be pulled from a private registry (401 Unauthorized)"
    return [
        Finding(
            "cluster.image-pull-unauthorized", "error", title, cause, _pull_fix(ev, first.message), evidence
        )
    ]


def _pull_failures(ev: ClusterEvidence, component: str) -> list[Finding]:
    found = [
        (p.name, c)
        for p in ev.pods_of(component)
        for c in p.containers
        if c.waiting_reason in _PULL_FAILED and not _PULL_401.search(c.waiting_message)
    ]
    if not found:
        return []
    name, container = found[0]
    who = AGENT_NAME if component == AGENT else CONTROLLER_NAME
    why = container.waiting_message or container.waiting_reason
    cause = f"The {component}'s image {container.image} cannot be pulled: {why}."
    fix = (
        "Check that the image name and tag exist and that the nodes can reach the registry; "
        "`kubewise connect --image IMAGE --apply` installs another; "
        f"`kubectl -n {NAMESPACE} describe pod {name}` shows the kubelet's error."
    )
    title = f"The {component}'s image cannot be pulled ({container.waiting_reason})"
    return [
        Finding(
            f"{component}.image-pull-failed",
            "error",
            title,
            cause,
            fix,
            (f"deployment {who}", f"pod {name}: {container.waiting_reason}"),
        )
    ]


def image_pull_failed(ev: ClusterEvidence) -> list[Finding]:
    return _pull_failures(ev, AGENT) + _pull_failures(ev, CONTROLLER)


def oom_killed(ev: ClusterEvidence) -> list[Finding]:
    found = []
    for component in (AGENT, CONTROLLER):
        hit = next(
            (p for p in ev.pods_of(component) for c in p.containers if c.last_reason == "OOMKilled"), None
        )
        if hit is None:
            continue
        cause = f"The {component}'s container ran out of its memory limit and was killed (OOMKilled)."
        fix = (
            f"Raise its memory limit (`kubectl -n {NAMESPACE} set resources deployment "
            f"{AGENT_NAME if component == AGENT else CONTROLLER_NAME} --limits=memory=4Gi`); the agent's "
            "autoscaler sidecar grows requests with the number of nodes, not the limit."
        )
        found.append(
            Finding(
                f"{component}.oom-killed",
                "warning",
                f"The {component} was OOMKilled",
                cause,
                fix,
                (f"pod {hit.name}",),
            )
        )
    return found


def controller_key_rejected(ev: ClusterEvidence) -> list[Finding]:
    line = last_match(failing_lines(ev, CONTROLLER), _CONTROLLER_KEY)
    if line is None:
        return []
    cause = (
        "The platform rejects the controller's token (the cluster's agent key from the Secret "
        f"{AGENT_NAME}): it was revoked or replaced by another onboarding, so the controller cannot "
        "fetch or report actions and the cluster is not operated."
    )
    fix = (
        "Renew it: `kubewise connect --controller --launch-template LT --subnets ZONE=SUBNET,... --apply` "
        f"(a new agent key goes into the Secret), then `kubectl -n {NAMESPACE} rollout restart deployment "
        f"{CONTROLLER_NAME} {AGENT_NAME}`."
    )
    title = f"The cluster controller {state_phrase(ev, CONTROLLER)}: the platform forbids its access"
    return [
        Finding(
            "controller.api-key-rejected", "error", title, cause, fix, (*pod_states(ev, CONTROLLER), line)
        )
    ]


def controller_settings(ev: ClusterEvidence) -> list[Finding]:
    line = last_match(failing_lines(ev, CONTROLLER), _CONTROLLER_SETTINGS)
    if line is None:
        return []
    match = _CONTROLLER_SETTINGS.search(line)
    names = match.group(1) if match else "its settings"
    cause = f"The controller stops at start: {names} not set on its Deployment."
    fix = (
        "Re-apply it: `kubewise connect --controller --launch-template LT --subnets ZONE=SUBNET,... --apply`."
    )
    title = f"The cluster controller {state_phrase(ev, CONTROLLER)}: it is not configured"
    return [Finding("controller.missing-settings", "error", title, cause, fix, (line,))]


def _unexplained(ev: ClusterEvidence, component: str, found: list[Finding]) -> list[Finding]:
    """A failing pod no other check explained: its state and last log line, for a human to read."""
    explained = (f"{component}.", "cluster.image-pull", "cluster.irsa")
    if not failing(ev, component) or any(f.check.startswith(explained) for f in found):
        return []
    lines = failing_lines(ev, component)
    states = pod_states(ev, component)
    if not states:
        return []
    name = AGENT_NAME if component == AGENT else CONTROLLER_NAME
    cause = (
        f"The {component}'s pod is not healthy, for a reason doctor does not recognise (its last log line)."
    )
    fix = (
        f"Read its logs: `kubectl -n {NAMESPACE} logs deployment/{name} --previous` and "
        f"`kubectl -n {NAMESPACE} describe pod -l app.kubernetes.io/name={name}`."
    )
    title = f"The {component} {state_phrase(ev, component)}"
    return [Finding(f"{component}.crashloop", "error", title, cause, fix, (*states, *lines[-1:]))]


# (name, check, what must have been read for it to run), in the order findings are reported
CHECKS: tuple[tuple[str, Check, tuple[str, ...]], ...] = (
    ("agent.installed", install.agent_not_installed, ("deployments",)),
    ("agent.pods", install.agent_scaled_down, ("deployments", "pods")),
    ("agent.secret", install.agent_secret, ("deployments", "secrets")),
    ("agent.aws-keys", install.aws_keys_incomplete, ("secrets",)),
    ("cluster.irsa-annotation", install.irsa_annotation, ("serviceaccounts",)),
    ("agent.rbac", install.agent_rbac, ("deployments", "pods")),
    ("controller.rbac", install.controller_rbac, ("deployments", "pods")),
    ("cluster.selector-immutable", install.selector_immutable, ("deployments",)),
    ("controller.version", install.version_mismatch, ("deployments",)),
    ("agent.provider", causes.wrong_provider, ("deployments", "nodes")),
    ("agent.discovery", causes.discovery_failed, ("pods",)),
    ("agent.api-key", causes.invalid_api_key, ("pods",)),
    ("agent.api-key-scope", causes.api_key_forbidden, ("pods",)),
    ("agent.network", causes.network_blocked, ("pods",)),
    ("agent.ec2-read", causes.ec2_read_denied, ("pods",)),
    ("agent.aws-credentials", causes.no_aws_credentials, ("pods",)),
    ("agent.tls-handshake", causes.tls_handshake_timeout, ("pods",)),
    ("controller.api-key", controller_key_rejected, ("pods",)),
    ("controller.settings", controller_settings, ("pods",)),
    ("cluster.image-pull-auth", image_pull_unauthorized, ("warning events",)),
    ("cluster.image-pull", image_pull_failed, ("pods",)),
    ("cluster.oom", oom_killed, ("pods",)),
)


def cluster_findings(ev: ClusterEvidence) -> tuple[list[Finding], list[str]]:
    """The findings on `ev` and the names of the checks that ran (reachability always does)."""
    found = api_reachable(ev)
    ran = ["cluster.api-reachable"]
    if not ev.reachable:
        return found, ran
    for name, check, needs in CHECKS:
        if all(ev.read(what) for what in needs):
            found += check(ev)
            ran.append(name)
    if ev.read("pods"):
        found += _unexplained(ev, AGENT, found) + _unexplained(ev, CONTROLLER, found)
        ran.append("cluster.crashloop")
    return found, ran
