"""`kubewise connect`: register this kubeconfig's cluster on a kubewise server and install its agent.

Prints the manifests (to pipe into `kubectl apply -f -`), or applies them itself with `--apply`;
re-running it upgrades the agent in place. The agent's API key appears only inside the Secret.
"""

from __future__ import annotations

from typing import Annotated

import typer
import yaml

from kubewise.agent.cluster_reader import ClusterReadError
from kubewise.agent.connect import DEFAULT_IMAGE, ControllerOptions, connect_cluster
from kubewise.agent.discovery import DiscoveryError
from kubewise.agent.installer import ApplyError
from kubewise.agent.platform_client import AgentFatal
from kubewise.agent.settings import AgentSettings

__all__ = ["connect"]

Opt = typer.Option


def connect(
    provider: Annotated[str, Opt("--provider", help="eks, gke, aks or kops.")],
    server: Annotated[
        str, Opt("--server", envvar="KUBEWISE_API_URL", help="Platform API URL.")
    ] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str, Opt("--api-key", envvar="KUBEWISE_API_KEY", help="A 'full' API key.", show_default=False)
    ] = "",
    agent_api_url: Annotated[
        str | None, Opt("--agent-api-url", help="Platform URL as the agent reaches it.")
    ] = None,
    context: Annotated[str | None, Opt("--context", help="Kubeconfig context.")] = None,
    kubeconfig: Annotated[str | None, Opt("--kubeconfig", help="Kubeconfig file.")] = None,
    account_id: Annotated[str | None, Opt("--account-id", help="EKS: AWS account id.")] = None,
    region: Annotated[str | None, Opt("--region", help="EKS/kOps region.")] = None,
    cluster_name: Annotated[str | None, Opt("--cluster-name", help="Cluster name.")] = None,
    image: Annotated[str, Opt("--image", help="Agent image.")] = DEFAULT_IMAGE,
    cloud_identity: Annotated[
        str | None, Opt("--cloud-identity", help="IAM role ARN (IRSA) or GCP service account.")
    ] = None,
    apply: Annotated[bool, Opt("--apply", help="Apply through the kubeconfig instead of printing.")] = False,
    controller: Annotated[
        bool, Opt("--controller", help="Also install the cluster controller (EKS/kOps on AWS).")
    ] = False,
    launch_template: Annotated[
        str | None, Opt("--launch-template", help="Controller: the node group's launch template.")
    ] = None,
    subnets: Annotated[str | None, Opt("--subnets", help="Controller: zone=subnet-id,...")] = None,
    controller_identity: Annotated[
        str | None, Opt("--controller-identity", help="Controller: IAM role ARN (IRSA).")
    ] = None,
) -> None:
    """Register the cluster and print (or --apply) the read-only agent's manifests (and the controller's)."""
    if provider not in ("eks", "gke", "aks", "kops"):
        typer.echo(f"error: --provider must be eks, gke, aks or kops, got {provider!r}", err=True)
        raise typer.Exit(2)
    if controller and (provider not in ("eks", "kops") or not launch_template or not subnets):
        typer.echo(
            "error: --controller needs --provider eks or kops, --launch-template and --subnets", err=True
        )
        raise typer.Exit(2)
    names = {
        "eks": ("eks_account_id", "eks_region", "eks_cluster_name"),
        "kops": (None, "kops_region", "kops_cluster_name"),
        "gke": (None, "gke_location", "gke_cluster_name"),
        "aks": (None, "aks_location", "aks_cluster_name"),
    }[provider]
    overrides = {k: v for k, v in zip(names, (account_id, region, cluster_name), strict=True) if k and v}
    settings = AgentSettings(api_url=server, api_key=api_key, provider=provider, **overrides)  # type: ignore[arg-type]
    try:
        result = connect_cluster(
            settings,
            context=context,
            kubeconfig=kubeconfig,
            agent_api_url=agent_api_url,
            image=image,
            cloud_identity=cloud_identity,
            apply=apply,
            controller=ControllerOptions(launch_template or "", subnets or "", controller_identity)
            if controller
            else None,
        )
    except (AgentFatal, DiscoveryError, ClusterReadError, ApplyError) as exc:
        typer.echo(f"error: {str(exc).removeprefix('agent failed: ')}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"cluster {result.cluster_id} registered ({provider})", err=True)
    if apply:
        for name, what in result.applied:
            typer.echo(f"{name} {what}")
    else:
        typer.echo(yaml.safe_dump_all(result.manifests, sort_keys=False), nl=False)
