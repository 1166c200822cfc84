"""`connect_cluster`: what `kubewise connect` does -- identify the cluster from the kubeconfig's nodes,
register it on the platform, mint its agent key, and build (and optionally apply) the install manifests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubewise import __version__
from kubewise.agent.cluster_reader import connect_api, read_nodes
from kubewise.agent.controller_manifests import ControllerInstall, controller_manifests
from kubewise.agent.discovery import discover
from kubewise.agent.installer import apply_manifests
from kubewise.agent.manifests import AgentInstall, agent_manifests
from kubewise.agent.platform_client import PlatformClient
from kubewise.agent.settings import AgentSettings

__all__ = ["ConnectResult", "ControllerOptions", "connect_cluster"]

DEFAULT_IMAGE = f"ghcr.io/kubewise/kubewise:{__version__}"
_ENV = {  # the discovered identity, passed to the agent so it never has to ask the cloud again
    "eks": {"accountId": "EKS_ACCOUNT_ID", "region": "EKS_REGION", "clusterName": "EKS_CLUSTER_NAME"},
    "gke": {"projectId": "GKE_PROJECT_ID", "location": "GKE_LOCATION", "clusterName": "GKE_CLUSTER_NAME"},
    "aks": {
        "subscriptionId": "AKS_SUBSCRIPTION_ID",
        "resourceGroup": "AKS_RESOURCE_GROUP",
        "location": "AKS_LOCATION",
        "clusterName": "AKS_CLUSTER_NAME",
    },
    "kops": {
        "cloud": "KOPS_CLOUD",
        "region": "KOPS_REGION",
        "clusterName": "KOPS_CLUSTER_NAME",
        "stateStore": "KOPS_STATE_STORE",
    },
}


@dataclass(frozen=True)
class ControllerOptions:
    launch_template: str
    subnets: str  # zone=subnet-id,...
    cloud_identity: str | None = None


@dataclass
class ConnectResult:
    cluster_id: str
    registration: dict[str, Any]
    manifests: list[dict[str, Any]]
    applied: list[tuple[str, str]]


def connect_cluster(
    settings: AgentSettings,
    *,
    context: str | None,
    kubeconfig: str | None,
    agent_api_url: str | None = None,
    image: str = DEFAULT_IMAGE,
    cloud_identity: str | None = None,
    apply: bool = False,
    platform: PlatformClient | None = None,
    controller: ControllerOptions | None = None,
) -> ConnectResult:
    nodes = read_nodes(context, kubeconfig)
    body = discover(settings, nodes, None)
    ((provider, details),) = body.items()
    api = platform or PlatformClient(settings.api_url, settings.api_key, attempts=3, max_wait=2.0)
    cluster_id = api.register(body)
    key = api.call(
        "POST", f"/v1/kubernetes/external-clusters/{cluster_id}/agent-key", what="creating the agent key"
    )
    install = AgentInstall(
        api_url=agent_api_url or settings.api_url,
        api_key=str(key["apiKey"]),
        cluster_id=cluster_id,
        provider=provider,
        image=image,
        version=__version__,
        env={_ENV[provider][k]: str(v) for k, v in details.items() if k in _ENV[provider]},
        cloud_identity=cloud_identity,
    )
    manifests = agent_manifests(install)
    if controller is not None:
        manifests += controller_manifests(
            ControllerInstall(
                api_url=install.api_url,
                cluster_id=cluster_id,
                image=image,
                version=__version__,
                region=str(details.get("region", "")),
                cluster_name=str(details.get("clusterName", "")),
                launch_template=controller.launch_template,
                subnets=controller.subnets,
                cloud_identity=controller.cloud_identity,
            )
        )
    applied = apply_manifests(connect_api(context, kubeconfig), manifests) if apply else []
    return ConnectResult(cluster_id, body, manifests, applied)
