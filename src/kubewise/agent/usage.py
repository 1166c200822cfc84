"""The agent's usage collector: each container's CPU and memory from the metrics API, sent to the platform.

`Agent.run` calls `UsageCollector.collect` every `usage_seconds`; the platform folds what it gets into
the decaying histograms that workload rightsizing (`kubewise.rightsizing`) recommends requests from.
Every call lists `metrics.k8s.io/v1beta1` PodMetrics in all namespaces (paged, read-only), converts the
quantities with `kubernetes.utils.parse_quantity` (CPU to millicores, memory to bytes) and sends them
in pages of at most `page_objects` pods: `{"at", "pods": [{"namespace", "name", "containers":
{"<c>": [millicores, bytes]}}]}`.

A cluster without metrics-server (the API group answers 404) or an agent whose ClusterRole lacks
`metrics.k8s.io pods get/list` (403) is not a crash: one warning line when it starts, and the
`MetricsAvailable` condition (False, saying what to do) in the heartbeat, until it is fixed. A
platform that does not take usage yet (404) is logged once and usage is not sent again until the
agent restarts: its other calls go on as before. A report the platform refuses otherwise (422: say,
the agent's clock far off) drops that round's usage, never the agent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity

from kubewise.agent.cluster_reader import PAGE_SIZE, REQUEST_TIMEOUT, ClusterReadError
from kubewise.agent.platform_client import AgentFatal, NotServed, PlatformClient, PlatformUnreachable

__all__ = ["METRICS_CONDITION", "UsageCollector", "pod_usage"]

log = logging.getLogger("kubewise.agent")

METRICS_CONDITION = "MetricsAvailable"
_GROUP, _VERSION, _PLURAL = "metrics.k8s.io", "v1beta1", "pods"
_PROBLEMS = {
    404: (
        "MetricsServerMissing",
        "the API server does not serve metrics.k8s.io/v1beta1 (404): install metrics-server "
        "(https://github.com/kubernetes-sigs/metrics-server) -- workload rightsizing has no usage data",
    ),
    403: (
        "Forbidden",
        "cannot list metrics.k8s.io pods (403): the agent's ClusterRole lacks metrics.k8s.io pods "
        "get/list -- re-apply the agent's manifests (kubewise connect)",
    ),
}


def _millicores(quantity: str) -> float:
    return round(float(parse_quantity(quantity) * 1000), 3)  # nanocores kept to the microcore


def pod_usage(item: dict[str, Any]) -> dict[str, Any] | None:
    """One PodMetrics object in the contract's compact shape, or None when it has no usable container
    (metrics-server lists pods whose containers it has not measured yet with none)."""
    meta = item.get("metadata") or {}
    containers: dict[str, list[float]] = {}
    for container in item.get("containers") or []:
        usage = container.get("usage") or {}
        try:
            cpu, memory = _millicores(str(usage["cpu"])), float(parse_quantity(str(usage["memory"])))
        except (KeyError, ValueError):
            continue  # a container without both figures says nothing a histogram can use
        containers[str(container.get("name", ""))] = [cpu, int(memory)]
    if not containers or not meta.get("name"):
        return None
    return {
        "namespace": str(meta.get("namespace") or ""),
        "name": str(meta["name"]),
        "containers": containers,
    }


class UsageCollector:
    def __init__(
        self,
        api: client.ApiClient,
        platform: PlatformClient,
        *,
        page_objects: int = 2000,
        list_page: int = PAGE_SIZE,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._metrics = client.CustomObjectsApi(api)
        self.platform, self.page_objects, self.wall_clock = platform, page_objects, wall_clock
        self.list_page = list_page  # PodMetrics per API page
        self.problem: dict[str, str] | None = None  # why there are no metrics, while there are none
        self.available: bool | None = None  # None until the metrics API was asked once
        self.stopped = False  # the platform does not take usage: not sent again until a restart

    @property
    def conditions(self) -> list[dict[str, str]]:
        """`MetricsAvailable` for the heartbeat; nothing before the first listing."""
        if self.available is None:
            return []
        ok = {"type": METRICS_CONDITION, "status": "True", "reason": "", "message": "metrics.k8s.io readable"}
        return [self.problem or ok]

    def collect(self, cluster_id: str) -> int:
        """One round: list every pod's usage and send it; returns how many pods were sent."""
        if self.stopped:
            return 0
        at = self.wall_clock().astimezone(UTC).isoformat()
        sent = 0
        batch: list[dict[str, Any]] = []
        try:
            for page in self._pages():
                batch.extend(p for item in page if (p := pod_usage(item)) is not None)
                while len(batch) >= self.page_objects:
                    sent += self._send(cluster_id, at, batch[: self.page_objects])
                    batch = batch[self.page_objects :]
            if batch:
                sent += self._send(cluster_id, at, batch)
        except NotServed as exc:
            self.stopped = True
            log.warning(f"{exc}; the platform does not take usage yet: not sent again until a restart")
        except PlatformUnreachable:
            raise  # the agent's loop says so and tries again next round
        except AgentFatal as exc:  # a report refused (e.g. the agent's clock far off): this round only
            log.error(f"{exc}; this round's usage is dropped")
        except _MetricsRefused as exc:
            self._refused(exc.status)
        return sent

    def _send(self, cluster_id: str, at: str, pods: list[dict[str, Any]]) -> int:
        self.platform.usage(cluster_id, at, pods)  # the platform counts what it folded in, not pods
        return len(pods)

    def _refused(self, status: int) -> None:
        reason, message = _PROBLEMS.get(
            status,
            (
                "MetricsUnavailable",
                f"the metrics API answered {status}: metrics-server is not serving -- check "
                "`kubectl get apiservice v1beta1.metrics.k8s.io` and the metrics-server pods",
            ),
        )
        if self.problem is None or self.problem["reason"] != reason:
            log.warning(f"no usage metrics: {message}")  # once per cause, not every round
        self.available = False
        self.problem = {"type": METRICS_CONDITION, "status": "False", "reason": reason, "message": message}

    def _pages(self) -> Iterator[list[dict[str, Any]]]:
        token: str | None = None
        while True:
            extra = {"_continue": token} if token else {}
            try:
                doc = self._metrics.list_cluster_custom_object(
                    _GROUP, _VERSION, _PLURAL, limit=self.list_page, _request_timeout=REQUEST_TIMEOUT, **extra
                )
            except ApiException as exc:
                if exc.status == 410 and token:  # the continue token expired: the rest next round
                    return
                if exc.status == 401:
                    raise ClusterReadError(
                        "cannot list metrics.k8s.io pods: unauthorized (401) -- the agent's credentials "
                        "were rejected"
                    ) from None
                raise _MetricsRefused(exc.status or 0) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                detail = " ".join(str(exc).split())[:200]
                raise ClusterReadError(
                    f"cannot list metrics.k8s.io pods: the API server did not answer ({detail})",
                    transient=True,
                ) from None
            self.available, self.problem = True, None
            yield list(doc.get("items") or [])
            token = (doc.get("metadata") or {}).get("continue") or None
            if not token:
                return


class _MetricsRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status
