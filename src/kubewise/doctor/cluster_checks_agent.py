"""Why the agent fails, told apart from its logs: one small pure check per cause.

Called through `doctor.cluster_checks.cluster_findings`. Each check reads the failing agent pods' log
lines (`cluster_pods.failing_lines`) for the line the agent writes when that cause stops it (see
`agent.platform_client`, `agent.discovery`, `agent.cluster_reader`, `agent.watcher`), and returns at
most one finding with the cause and the fix in the user's terms.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from kubewise.agent.manifests import AGENT_NAME, NAMESPACE
from kubewise.doctor.cluster_evidence import AGENT, ClusterEvidence
from kubewise.doctor.cluster_pods import (
    LABEL_SELECTOR,
    failing_lines,
    last_match,
    node_provider,
    pod_states,
    state_phrase,
)
from kubewise.doctor.findings import Finding

__all__ = [
    "api_key_forbidden",
    "discovery_failed",
    "ec2_read_denied",
    "invalid_api_key",
    "network_blocked",
    "no_aws_credentials",
    "tls_handshake_timeout",
    "wrong_provider",
]

_INVALID_KEY = re.compile(r"invalid API key \(401\)|no API key: set API_KEY")
_KEY_FORBIDDEN = re.compile(r"forbidden \(403\):.*(full|agent key)")
_NETWORK = re.compile(
    r"cannot reach the platform at|the platform at \S+ did not|check API_URL and the network"
)
_EC2 = re.compile(r"UnauthorizedOperation")
_NO_CREDS = re.compile(r"NoCredentialProviders|no valid providers in chain|Unable to locate credentials")
_TLS = re.compile(r"TLS handshake timeout|TLS handshake or response timeout")
_DISCOVERY = re.compile(
    r"getting provider:|getting instance identity"
    r"|registering cluster: (getting cluster|cannot (ask|tell)|describing|instance)"
)
_IRSA = "eks.amazonaws.com/role-arn"
_RESTART = f"kubectl -n {NAMESPACE} rollout restart deployment {AGENT_NAME}"
_RECONNECT = (
    "`kubewise connect --apply` (it mints a new agent key for this cluster and re-applies the Secret)"
)


def _title(ev: ClusterEvidence, why: str) -> str:
    return f"The agent {state_phrase(ev, AGENT)}: {why}"


def _finding(ev: ClusterEvidence, check: str, why: str, cause: str, fix: str, line: str) -> Finding:
    return Finding(check, "error", _title(ev, why), cause, fix, (*pod_states(ev, AGENT), line))


def invalid_api_key(ev: ClusterEvidence) -> list[Finding]:
    line = last_match(failing_lines(ev, AGENT), _INVALID_KEY)
    if line is None:
        return []
    cause = (
        f"The platform at {ev.api_url or 'API_URL'} answers 401 to the key in the Secret {AGENT_NAME} "
        "(API_KEY): it was revoked, mistyped, or was issued by another kubewise platform."
    )
    return [
        _finding(ev, "agent.invalid-api-key", "its API key is invalid", cause, f"Run {_RECONNECT}.", line)
    ]


def api_key_forbidden(ev: ClusterEvidence) -> list[Finding]:
    line = last_match(failing_lines(ev, AGENT), _KEY_FORBIDDEN)
    if line is None:
        return []
    cause = (
        "The platform accepts the agent's key but refuses what the agent sends (403): the key is a 'read' "
        "key, or another cluster's agent key."
    )
    return [
        _finding(
            ev,
            "agent.api-key-forbidden",
            "its API key is not this cluster's",
            cause,
            f"Run {_RECONNECT}.",
            line,
        )
    ]


def wrong_provider(ev: ClusterEvidence) -> list[Finding]:
    """PROVIDER set on the agent against what the nodes' labels and providerIDs say."""
    agent = ev.agent
    configured = (agent.env_value("PROVIDER") if agent else None) or "auto"
    detected = node_provider(ev)
    if configured == "auto" or detected is None or configured == detected:
        return []
    line = last_match(failing_lines(ev, AGENT), _DISCOVERY)
    cause = (
        f"The agent runs with PROVIDER={configured}, but the nodes' labels and spec.providerID say "
        f"{detected}: it looks for the cluster's identity in the wrong cloud, and fails or registers it "
        "wrongly."
    )
    fix = (
        f"Re-run `kubewise connect --apply` (it detects {detected}), or set PROVIDER={detected} on the "
        f"Deployment: `kubectl -n {NAMESPACE} set env deployment/{AGENT_NAME} -c agent PROVIDER={detected}`."
    )
    evidence = (
        *pod_states(ev, AGENT),
        f"PROVIDER={configured}",
        f"nodes say {detected}",
        *([line] if line else []),
    )
    title = f"The agent is configured for the wrong provider ({configured}; the nodes say {detected})"
    return [Finding("agent.wrong-provider", "error", title, cause, fix, evidence)]


def discovery_failed(ev: ClusterEvidence) -> list[Finding]:
    """The agent could not identify the cluster, for another reason than AWS permissions (own checks)."""
    others = (_EC2, _NO_CREDS, _TLS, _NETWORK, _INVALID_KEY, _KEY_FORBIDDEN)  # each its own finding
    lines = [ln for ln in failing_lines(ev, AGENT) if not any(p.search(ln) for p in others)]
    line = last_match(lines, _DISCOVERY)
    if line is None or wrong_provider(ev):
        return []
    cause = (
        "The agent could not tell which cluster this is from the nodes' labels, its environment or the "
        "cloud's metadata server (unreachable from the pod, or the nodes carry no provider labels)."
    )
    fix = (
        "Set the identity on the agent so it need not ask: EKS_ACCOUNT_ID, EKS_REGION and EKS_CLUSTER_NAME "
        "(GKE_*, AKS_*, KOPS_* on other clouds) -- `kubewise connect --apply` sets them from the nodes -- "
        "or set PROVIDER to eks, gke, aks or kops."
    )
    return [_finding(ev, "agent.discovery-failed", "it cannot identify the cluster", cause, fix, line)]


def _network_kind(line: str) -> str:
    if re.search(
        r"Name or service not known|name resolution|nodename nor servname|getaddrinfo|No address", line
    ):
        return "the platform's host name does not resolve (DNS)"
    if re.search(r"refused", line, re.IGNORECASE):
        return "the connection is refused"
    if re.search(r"did not|timed? ?out", line, re.IGNORECASE):
        return "the connection times out (a firewall or NetworkPolicy dropping it)"
    return "the connection fails"


def network_blocked(ev: ClusterEvidence) -> list[Finding]:
    line = last_match(failing_lines(ev, AGENT), _NETWORK)
    if line is None:
        return []
    url = ev.api_url or "API_URL"
    host = urlparse(ev.api_url).hostname or url
    local = (
        " API_URL points at the pod itself (localhost), not at the platform."
        if host in ("127.0.0.1", "localhost")
        else ""
    )
    cause = f"The agent cannot reach the platform at {url}: {_network_kind(line)}.{local}"
    fix = (
        f"Allow outbound HTTPS from namespace {NAMESPACE} to {host} (egress NetworkPolicy, security groups, "
        "proxy, firewall) and set API_URL to an address the cluster can reach. Test from inside: "
        f"`kubectl -n {NAMESPACE} run kw-net --rm -it --restart=Never --image=curlimages/curl -- "
        f"curl -sS {url.rstrip('/')}/healthz`."
    )
    return [_finding(ev, "agent.network-blocked", "it cannot reach the platform", cause, fix, line)]


def _identity(ev: ClusterEvidence) -> str:
    account = ev.service_account(AGENT_NAME)
    role = account.annotations.get(_IRSA) if account else None
    return f"the IAM role {role} (IRSA)" if role else "the nodes' instance role"


def ec2_read_denied(ev: ClusterEvidence) -> list[Finding]:
    line = last_match(failing_lines(ev, AGENT), _EC2)
    if line is None:
        return []
    cause = (
        f"AWS refuses EC2 reads (UnauthorizedOperation) to {_identity(ev)}, which the agent runs as: it "
        "needs ec2:DescribeInstances to identify the cluster and to tell spot nodes from on-demand ones -- "
        "without it spot nodes are shown, and priced, as on-demand."
    )
    fix = (
        "Attach the AmazonEC2ReadOnlyAccess policy to that role (or put AWS_ACCESS_KEY_ID and "
        f"AWS_SECRET_ACCESS_KEY of a user that has it in the Secret {AGENT_NAME}); setting EKS_ACCOUNT_ID, "
        "EKS_REGION and EKS_CLUSTER_NAME on the agent avoids the identity lookup. Then: "
        f"`{_RESTART}`."
    )
    return [_finding(ev, "agent.ec2-read-denied", "it may not read EC2", cause, fix, line)]


def no_aws_credentials(ev: ClusterEvidence) -> list[Finding]:
    line = last_match(failing_lines(ev, AGENT), _NO_CREDS)
    if line is None:
        return []
    keys = set(ev.secrets.get(AGENT_NAME, []))
    account = ev.service_account(AGENT_NAME)
    role = account.annotations.get(_IRSA) if account else None
    has_keys = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= keys
    if role:
        why = (
            f"the ServiceAccount is annotated with {role}, but the pod got no web identity: the pod predates "
            "the annotation, or the cluster has no IAM OIDC provider / the role's trust policy does not "
            f"name system:serviceaccount:{NAMESPACE}:{AGENT_NAME}"
        )
    elif has_keys:
        why = f"the Secret {AGENT_NAME} holds AWS keys, but the SDK did not accept them (empty or malformed)"
    else:
        why = (
            f"the Secret {AGENT_NAME} holds no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the ServiceAccount "
            f"has no {_IRSA} annotation, and the node's instance metadata is not reachable from the pod"
        )
    cause = f"The agent finds no AWS credentials (NoCredentialProviders): {why}."
    fix = (
        f"Give the agent an IAM role with AmazonEC2ReadOnlyAccess through IRSA: `kubectl annotate "
        f"serviceaccount -n {NAMESPACE} {AGENT_NAME} {_IRSA}=arn:aws:iam::ACCOUNT_ID:role/ROLE` (or put "
        f"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the Secret {AGENT_NAME}), then `{_RESTART}`."
    )
    return [_finding(ev, "agent.no-aws-credentials", "it has no AWS credentials", cause, fix, line)]


def tls_handshake_timeout(ev: ClusterEvidence) -> list[Finding]:
    """The API server's TLS handshake timing out for the agent (not the platform's: a network finding)."""
    lines = [ln for ln in failing_lines(ev, AGENT) if "platform" not in ln]
    line = last_match(lines, _TLS)
    if line is None:
        return []
    cause = (
        "The agent's connection to the Kubernetes API server timed out in the TLS handshake; on some "
        "cluster networks a pod keeps a broken path to the API server until it is recreated."
    )
    fix = (
        f"Delete the agent's pod; its Deployment recreates it: `kubectl delete pod -n {NAMESPACE} -l "
        f"{LABEL_SELECTOR[AGENT]}`. If it comes back, check the path from the nodes to the API server."
    )
    return [
        _finding(
            ev, "agent.tls-handshake-timeout", "TLS handshake timeout to the API server", cause, fix, line
        )
    ]
