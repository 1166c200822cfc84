"""`kubewise controller`: carry out the platform's actions for this cluster (in-cluster, or --context).

Configured from the environment: API_URL, API_KEY (the cluster's agent key), CLUSTER_ID, POLL_SECONDS,
and for AWS: AWS_REGION, CLUSTER_NAME, LAUNCH_TEMPLATE, SUBNETS (zone=subnet-id,...).
"""

from __future__ import annotations

from typing import Annotated

import typer

from kubewise.controller.main import run_controller
from kubewise.controller.settings import ControllerSettings

__all__ = ["controller"]


def controller(
    context: Annotated[
        str | None, typer.Option("--context", help="Kubeconfig context (outside a pod).")
    ] = None,
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", help="Kubeconfig file.")] = None,
    once: Annotated[bool, typer.Option("--once", help="One poll of the platform, then exit.")] = False,
) -> None:
    """Cordon, drain, delete and add nodes as the platform's autoscaler decided."""
    try:
        settings = ControllerSettings()
    except ValueError as exc:
        typer.echo(f"controller failed: bad configuration: {' '.join(str(exc).split())}", err=True)
        raise typer.Exit(2) from None
    raise typer.Exit(run_controller(settings, context=context, kubeconfig=kubeconfig, once=once))
