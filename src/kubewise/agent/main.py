"""`run_agent`: the process behind `kubewise agent` -- settings, discovery, the loop, fatal errors.

The cloud is asked about the node only for what the nodes and the environment do not say: on EKS and
kOps the instance identity and EC2, on GKE and AKS their metadata servers. A fatal error is logged as
one line and returned as exit code 1.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from typing import Any

from kubewise.agent.cluster_reader import ClusterReadError, connect_api, read_cluster, read_nodes
from kubewise.agent.debug import DebugServer
from kubewise.agent.discovery import DiscoveryError
from kubewise.agent.health import HealthServer
from kubewise.agent.page_server import PageServer
from kubewise.agent.platform_client import AgentFatal, PlatformClient
from kubewise.agent.runner import Agent
from kubewise.agent.settings import AgentSettings
from kubewise.agent.usage import UsageCollector
from kubewise.agent.watcher import ClusterWatch
from kubewise.cloud.aws.metadata import AwsMetadata
from kubewise.cloud.azure.metadata import AzureMetadata
from kubewise.cloud.gcp.metadata import GcpMetadata
from kubewise.cloud.metadata import ClusterMetadata

__all__ = ["run_agent"]

log = logging.getLogger("kubewise.agent")


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        out.update({k: v for k, v in record.__dict__.items() if k in ("cluster_id", "objects", "sequence")})
        return json.dumps(out)


def run_agent(settings: AgentSettings, *, context: str | None, kubeconfig: str | None, once: bool) -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    log.addHandler(handler)  # the agent's own logger only: nothing global is left behind
    log.setLevel(settings.log_level.upper())
    log.propagate = False
    try:
        return _run(settings, context=context, kubeconfig=kubeconfig, once=once)
    finally:
        log.removeHandler(handler)


def _run(settings: AgentSettings, *, context: str | None, kubeconfig: str | None, once: bool) -> int:
    cloud = AwsMetadata() if settings.provider in ("auto", "eks", "kops") else None
    metadata_servers: dict[str, ClusterMetadata] = {
        "gke": GcpMetadata(),
        "aks": AzureMetadata(),
    }  # no I/O until asked
    try:
        platform = PlatformClient(settings.api_url, settings.api_key)
        read = lambda: read_cluster(context, kubeconfig, workloads=True)  # noqa: E731
        nodes = lambda: read_nodes(context, kubeconfig)  # noqa: E731
        if once:
            api = connect_api(context, kubeconfig) if settings.usage_seconds > 0 else None
            once_usage = (
                UsageCollector(api, platform, page_objects=settings.snapshot_page_objects) if api else None
            )
            agent = Agent(
                settings, platform, read, cloud, read_nodes=nodes, servers=metadata_servers, usage=once_usage
            )
            try:
                agent.connect()
                agent.snapshot()
                agent.send_usage()  # before the heartbeat, which carries its MetricsAvailable condition
                agent.heartbeat()
            finally:
                if api is not None:
                    api.close()
            return 0
        watch = ClusterWatch(connect_api(context, kubeconfig))
        usage = UsageCollector(watch.api, platform, page_objects=settings.snapshot_page_objects)
        agent = Agent(
            settings,
            platform,
            read,
            cloud,
            watch=watch,
            delta_seconds=settings.delta_seconds,
            read_nodes=nodes,
            servers=metadata_servers,
            usage=usage if settings.usage_seconds > 0 else None,
        )
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        servers: list[PageServer] = []
        if settings.health_port:
            servers.append(HealthServer(settings.health_port, agent.alive, agent.ready).start())
        if settings.debug_port:
            servers.append(DebugServer(settings.debug_port).start())
        try:
            agent.run(stop)
        finally:
            watch.stop()
            for server in servers:
                server.stop()
        return 0
    except (AgentFatal, DiscoveryError, ClusterReadError) as exc:
        message = str(exc) if str(exc).startswith("agent failed") else f"agent failed: {exc}"
        log.critical(message)
        return 1
