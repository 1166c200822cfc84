"""`run_controller`: the process behind `kubewise controller` -- settings, clients, the poll loop.

Fatal errors (RBAC, a revoked key, missing configuration) are logged as one line and returned as
exit code 1; SIGTERM stops it between actions.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from kubewise.agent.cluster_reader import ClusterReadError, connect_api
from kubewise.cloud.aws.provider import AwsProvider
from kubewise.controller.executor import Executor
from kubewise.controller.kube import ControllerFatal, NodeOps
from kubewise.controller.loop import Controller
from kubewise.controller.platform import ControllerPlatform
from kubewise.controller.settings import ControllerSettings

__all__ = ["run_controller"]

log = logging.getLogger("kubewise.controller")


def run_controller(
    settings: ControllerSettings, *, context: str | None, kubeconfig: str | None, once: bool
) -> int:
    handler = logging.StreamHandler(sys.stderr)
    log.addHandler(handler)
    log.setLevel(settings.log_level.upper())
    log.propagate = False
    try:
        missing = settings.missing()
        if missing:
            raise ControllerFatal(f"controller failed: set {', '.join(missing)} on the controller")
        platform = ControllerPlatform(settings.api_url, settings.api_key, settings.cluster_id)
        cloud = AwsProvider(
            settings.aws_region, settings.cluster_name, settings.launch_template, settings.subnet_map()
        )
        zones = sorted(settings.subnet_map())
        controller = Controller(
            platform,
            Executor(NodeOps(connect_api(context, kubeconfig)), cloud, platform),
            settings.poll_seconds,
            spot_prices=lambda: cloud.spot_prices(zones),
            spot_price_seconds=settings.spot_price_seconds,
        )
        if once:
            controller.run_once()
            return 0
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        controller.run(stop)
        return 0
    except (ControllerFatal, ClusterReadError) as exc:
        message = str(exc) if str(exc).startswith("controller failed") else f"controller failed: {exc}"
        log.critical(message)
        return 1
    finally:
        log.removeHandler(handler)
