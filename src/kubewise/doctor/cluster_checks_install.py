"""Is the agent (and the controller) installed as this version of kubewise installs it? Pure checks.

Called through `doctor.cluster_checks.cluster_findings`. What "as installed" means comes from the
manifests themselves (`agent.manifests`, `agent.controller_manifests`): the Deployments' selectors and
the ClusterRoles' rules are taken from them, so these checks follow the manifests when they change.
"""

from __future__ import annotations

import re
from typing import Any

from kubewise.agent.controller_manifests import CONTROLLER_NAME, ControllerInstall, controller_manifests
from kubewise.agent.manifests import AGENT_NAME, NAMESPACE, AgentInstall, agent_manifests
from kubewise.doctor.cluster_evidence import AGENT, CONTROLLER, ClusterEvidence, DeploymentEvidence
from kubewise.doctor.cluster_pods import failing_lines, last_match
from kubewise.doctor.findings import Finding

__all__ = [
    "agent_not_installed",
    "agent_rbac",
    "agent_scaled_down",
    "agent_secret",
    "aws_keys_incomplete",
    "controller_rbac",
    "irsa_annotation",
    "selector_immutable",
    "version_mismatch",
]

_IRSA = "eks.amazonaws.com/role-arn"
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_RBAC_LOG = re.compile(
    r"cannot (list|watch|get) \S+: forbidden \(403\)"
    r"|is forbidden: User \"system:serviceaccount:[^\"]+\" cannot"
)
_CONTROLLER_RBAC_LOG = re.compile(r"controller failed: forbidden \(403\) to")


def _objects() -> dict[str, dict[str, Any]]:
    """This version's agent and controller objects by kind/name (placeholder values: shapes only)."""
    agent = AgentInstall(api_url="", api_key="-", cluster_id="", provider="eks", image="", version="")
    controller = ControllerInstall(
        api_url="",
        cluster_id="",
        image="",
        version="",
        region="",
        cluster_name="",
        launch_template="",
        subnets="",
    )
    objects = [*agent_manifests(agent), *controller_manifests(controller)]
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objects}


_INSTALLED = _objects()


def agent_not_installed(ev: ClusterEvidence) -> list[Finding]:
    if ev.agent is not None:
        return []
    cause = (
        f"There is no Deployment {AGENT_NAME} in namespace {NAMESPACE}: the agent was never installed here, "
        "or it was deleted. Without it the platform gets no heartbeats: the cluster shows 'Not responding', "
        "then 'Disconnected'."
    )
    fix = (
        "Re-install the agent: `kubewise connect --apply` on this kubeconfig context (or press Reconnect in "
        "the console and run the command it shows). Pick the right provider if you pass --provider."
    )
    title = "The agent is not installed: the cluster is Not responding"
    return [
        Finding(
            "agent.not-installed", "error", title, cause, fix, (f"no deployment {NAMESPACE}/{AGENT_NAME}",)
        )
    ]


def agent_scaled_down(ev: ClusterEvidence) -> list[Finding]:
    """The Deployment is there but runs no pod: scaled to zero, or pods that cannot be created."""
    agent = ev.agent
    if agent is None or ev.pods_of(AGENT):
        return []
    if agent.replicas == 0:
        cause = f"The Deployment {AGENT_NAME} is scaled to 0: no agent runs, the cluster stops reporting."
        fix = f"`kubectl -n {NAMESPACE} scale deployment {AGENT_NAME} --replicas=1`"
        return [Finding("agent.no-pod", "error", "The agent is scaled to zero", cause, fix, ("replicas: 0",))]
    events = [
        f"{e.reason}: {e.message}" for e in ev.events if e.type == "Warning" and e.reason.startswith("Failed")
    ]
    cause = (
        f"The Deployment {AGENT_NAME} has no pod: its pods cannot be created or scheduled (quota, "
        "admission policy, no node that fits)."
    )
    fix = f"See why: `kubectl -n {NAMESPACE} describe replicaset -l app.kubernetes.io/name={AGENT_NAME}`."
    return [Finding("agent.no-pod", "error", "The agent has no pod", cause, fix, tuple(events[-5:]))]


def agent_secret(ev: ClusterEvidence) -> list[Finding]:
    if ev.agent is None:
        return []
    keys = ev.secrets.get(AGENT_NAME)
    if keys is not None and "API_KEY" in keys:
        return []
    what = f"has no Secret {AGENT_NAME}" if keys is None else f"Secret {AGENT_NAME} holds no API_KEY"
    cause = (
        f"The agent {what}: its container cannot start (CreateContainerConfigError) or starts without a key."
    )
    fix = "Re-run `kubewise connect --apply`: it mints this cluster's agent key and writes the Secret."
    title = "The agent's Secret is missing" if keys is None else "The agent's Secret has no API key"
    evidence = (f"secret keys: {', '.join(keys) or 'none'}",) if keys is not None else (what,)
    return [Finding("agent.secret-missing", "error", title, cause, fix, evidence)]


def aws_keys_incomplete(ev: ClusterEvidence) -> list[Finding]:
    keys = set(ev.secrets.get(AGENT_NAME, []))
    pair = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    if not keys & pair or pair <= keys:
        return []
    (present,) = keys & pair
    (absent,) = pair - keys
    cause = f"The Secret {AGENT_NAME} holds {present} without {absent}: the AWS SDK ignores half a key pair."
    fix = "Put both keys in the Secret (or neither, and use IRSA), then restart the agent."
    title = "The agent's AWS key pair is incomplete"
    return [
        Finding(
            "agent.aws-keys-incomplete",
            "error",
            title,
            cause,
            fix,
            (f"secret keys: {', '.join(sorted(keys))}",),
        )
    ]


def irsa_annotation(ev: ClusterEvidence) -> list[Finding]:
    found = []
    for name in (AGENT_NAME, CONTROLLER_NAME):
        account = ev.service_account(name)
        role = account.annotations.get(_IRSA) if account else None
        if role is None or _ROLE_ARN.match(role.strip()):
            continue
        cause = (
            f"The ServiceAccount {name} is annotated {_IRSA}={role!r}, which is not an IAM role ARN: "
            "EKS gives the pod no credentials for it."
        )
        fix = (
            f"`kubectl annotate serviceaccount -n {NAMESPACE} {name} --overwrite "
            f"{_IRSA}=arn:aws:iam::ACCOUNT_ID:role/ROLE`, then restart its Deployment."
        )
        title = f"The IRSA annotation of {name} is not a role ARN"
        found.append(
            Finding("cluster.irsa-annotation-invalid", "error", title, cause, fix, (f"{_IRSA}: {role}",))
        )
    return found


def _allows(rules: list[dict[str, Any]], group: str, resource: str, verb: str) -> bool:
    def has(values: Any, wanted: str) -> bool:
        return isinstance(values, list) and (wanted in values or "*" in values)

    return any(
        has(r.get("apiGroups"), group)
        and has(r.get("resources"), resource)
        and has(r.get("verbs"), verb)
        and not r.get("resourceNames")
        for r in rules
    )


def _missing_rules(ev: ClusterEvidence, name: str) -> list[str]:
    """What `name`'s ClusterRole and binding lack against this version's manifests."""
    if name not in ev.cluster_roles:
        return [f"no ClusterRole {name}"]
    missing = [
        f"{verb} {group + '/' if group else ''}{resource}"
        for rule in _INSTALLED[f"ClusterRole/{name}"]["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        if not _allows(ev.cluster_roles[name], group, resource, verb)
    ]
    if ev.read("clusterrolebindings") and ev.cluster_role_bindings.get(name) != name:
        missing.append(f"no ClusterRoleBinding {name} of ClusterRole {name}")
    return missing


def _rbac(ev: ClusterEvidence, name: str, component: str, pattern: re.Pattern[str]) -> list[Finding]:
    line = last_match(failing_lines(ev, component), pattern)
    missing = _missing_rules(ev, name) if ev.read("clusterroles") else []
    if line is None and not missing:
        return []
    who = "agent" if component == AGENT else "controller"
    cause = (
        f"The {who}'s service account may not do what it needs in the Kubernetes API (403 forbidden): "
        f"its ClusterRole {name} is missing, or lacks rules this version's manifests give it."
    )
    fix = (
        f"Re-apply the manifests: `kubewise connect{' --controller ...' if component == CONTROLLER else ''} "
        "--apply`; "
        f"check with `kubectl auth can-i --list --as=system:serviceaccount:{NAMESPACE}:{name}`."
    )
    evidence = (*(f"missing: {m}" for m in missing), *([line] if line else []))
    return [
        Finding(
            f"{component}.missing-rbac",
            "error",
            f"The {who} lacks Kubernetes permissions (RBAC)",
            cause,
            fix,
            evidence,
        )
    ]


def agent_rbac(ev: ClusterEvidence) -> list[Finding]:
    return _rbac(ev, AGENT_NAME, AGENT, _RBAC_LOG) if ev.agent is not None else []


def controller_rbac(ev: ClusterEvidence) -> list[Finding]:
    return _rbac(ev, CONTROLLER_NAME, CONTROLLER, _CONTROLLER_RBAC_LOG) if ev.controller is not None else []


def _selector_finding(deployment: DeploymentEvidence, expected: dict[str, Any], controller: bool) -> Finding:
    name = deployment.name
    cause = (
        f"The installed Deployment {name} selects pods by {deployment.selector}, this version by {expected}; "
        "a Deployment's selector cannot change, so applying the new manifests fails with "
        "'field is immutable'."
    )
    again = "kubewise connect --controller ... --apply" if controller else "kubewise connect --apply"
    fix = (
        f"`kubectl delete deployment -n {NAMESPACE} {name}` and run `{again}` again -- or just `{again}`, "
        "which deletes and recreates a Deployment whose selector changed."
    )
    title = f"Upgrading {name} will fail: its selector is immutable"
    return Finding(
        f"{'controller' if controller else 'agent'}.selector-immutable",
        "error",
        title,
        cause,
        fix,
        (f"selector: {deployment.selector}",),
    )


def selector_immutable(ev: ClusterEvidence) -> list[Finding]:
    found = []
    for deployment, controller in ((ev.agent, False), (ev.controller, True)):
        if deployment is None:
            continue
        expected = _INSTALLED[f"Deployment/{deployment.name}"]["spec"]["selector"]
        if deployment.selector != expected:
            found.append(_selector_finding(deployment, expected, controller))
    return found


def _version(deployment: DeploymentEvidence, container: str) -> str:
    if deployment.version:
        return deployment.version
    image = deployment.images.get(container, "").split("@", 1)[0]
    tail = image.rsplit("/", 1)[-1]
    return tail.split(":", 1)[1] if ":" in tail else ""


def version_mismatch(ev: ClusterEvidence) -> list[Finding]:
    agent, controller = ev.agent, ev.controller
    if agent is None or controller is None:
        return []
    a, c = _version(agent, "agent"), _version(controller, "controller")
    if not a or not c or a == c:
        return []
    cause = (
        f"The agent runs kubewise {a} and the controller {c}: they were installed by different versions, and "
        "the platform may send the controller actions the agent's data does not support (or the reverse)."
    )
    fix = "Re-apply both from one version: `kubewise connect --controller ... --apply`."
    title = f"The agent ({a}) and the controller ({c}) run different versions"
    return [
        Finding(
            "controller.version-mismatch", "warning", title, cause, fix, (f"agent: {a}", f"controller: {c}")
        )
    ]
