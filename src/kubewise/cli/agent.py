"""`kubewise agent`: run the read-only agent that connects a cluster to the platform.

Configured from the environment (API_URL, API_KEY, CLUSTER_ID, PROVIDER, EKS_ACCOUNT_ID, EKS_REGION,
EKS_CLUSTER_NAME and the GKE_/AKS_/KOPS_ equivalents); in a pod it uses its service account.
"""

from __future__ import annotations

from typing import Annotated

import typer

from kubewise.agent.main import run_agent
from kubewise.agent.settings import AgentSettings

__all__ = ["agent"]


def agent(
    context: Annotated[
        str | None, typer.Option("--context", help="Kubeconfig context (outside a pod).")
    ] = None,
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", help="Kubeconfig file.")] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Register, send one snapshot and a heartbeat, exit.")
    ] = False,
) -> None:
    """Connect this cluster to a kubewise server: register, snapshot, then changes and heartbeats."""
    try:
        settings = AgentSettings()
    except ValueError as exc:  # pydantic names the variable and what is wrong with it
        typer.echo(f"agent failed: bad configuration: {' '.join(str(exc).split())}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(run_agent(settings, context=context, kubeconfig=kubeconfig, once=once))
