"""Read a live cluster (read-only) into plain Kubernetes object dicts for `model.loading`.

The I/O edge between kubewise and the Kubernetes API: the CLI and the agent call `read_cluster`,
then `kubewise.model.load_snapshot_from_objects` on the result. Only `list` calls are made (nodes,
pods in all namespaces, policy/v1 PodDisruptionBudgets, namespaces), paginated 500 at a time.
Every failure is a `ClusterReadError` with one line saying what failed and what to do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

__all__ = [
    "PAGE_SIZE",
    "ClusterReadError",
    "connect_api",
    "listing_pages",
    "listings",
    "read_cluster",
    "read_nodes",
]

PAGE_SIZE = 500
REQUEST_TIMEOUT = (10, 120)  # seconds: connect, read (one page)
_MAX_LIST_RESTARTS = 2  # a continue token can expire (410 Gone) on long lists: start over


# The client is untyped: typed aliases of the entry points used here.
_new_client_from_config: Callable[..., client.ApiClient] = config.new_client_from_config
_load_incluster_config: Callable[..., None] = config.load_incluster_config


class ClusterReadError(RuntimeError):
    """The cluster could not be read; the message is one line: what failed and what to do.
    `transient`: trying again later may work (the API server unreachable, timing out, or 5xx)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class _Listing:
    plural: str
    kind: str
    api_version: str
    scope: str  # for hints: "in all namespaces" or "(cluster-scoped)"
    method: Callable[[client.ApiClient], Callable[..., Any]]


_LISTINGS = (
    _Listing("nodes", "Node", "v1", "(cluster-scoped)", lambda c: client.CoreV1Api(c).list_node),
    _Listing(
        "pods", "Pod", "v1", "in all namespaces", lambda c: client.CoreV1Api(c).list_pod_for_all_namespaces
    ),
    _Listing(
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        "policy/v1",
        "in all namespaces",
        lambda c: client.PolicyV1Api(c).list_pod_disruption_budget_for_all_namespaces,
    ),
    _Listing(
        "namespaces", "Namespace", "v1", "(cluster-scoped)", lambda c: client.CoreV1Api(c).list_namespace
    ),
)
# what the agent also sends (pods' owners, for the platform's workload views); `kubewise savings` needs none
_WORKLOAD_LISTINGS = tuple(
    _Listing(plural, kind, group, "in all namespaces", method)
    for plural, kind, group, method in (
        (
            "deployments",
            "Deployment",
            "apps/v1",
            lambda c: client.AppsV1Api(c).list_deployment_for_all_namespaces,
        ),
        (
            "replicasets",
            "ReplicaSet",
            "apps/v1",
            lambda c: client.AppsV1Api(c).list_replica_set_for_all_namespaces,
        ),
        (
            "statefulsets",
            "StatefulSet",
            "apps/v1",
            lambda c: client.AppsV1Api(c).list_stateful_set_for_all_namespaces,
        ),
        (
            "daemonsets",
            "DaemonSet",
            "apps/v1",
            lambda c: client.AppsV1Api(c).list_daemon_set_for_all_namespaces,
        ),
        ("jobs", "Job", "batch/v1", lambda c: client.BatchV1Api(c).list_job_for_all_namespaces),
        ("cronjobs", "CronJob", "batch/v1", lambda c: client.BatchV1Api(c).list_cron_job_for_all_namespaces),
    )
)


def _default_kubeconfig_paths() -> list[str]:
    """The files the client reads when no kubeconfig is given: $KUBECONFIG entries or ~/.kube/config."""
    raw = os.environ.get("KUBECONFIG") or "~/.kube/config"
    return [os.path.expanduser(p) for p in raw.split(os.pathsep) if p]


def connect_api(context: str | None, kubeconfig: str | None) -> client.ApiClient:
    """An API client for `context` of `kubeconfig`, or the pod's service account (`ClusterReadError`)."""
    return _connect(context, kubeconfig)


def _connect(context: str | None, kubeconfig: str | None) -> client.ApiClient:
    """An API client for `context` of `kubeconfig` (default: $KUBECONFIG or ~/.kube/config).

    Inside a pod, with no kubeconfig file and no context asked for, the service account is used.
    """
    paths = [kubeconfig] if kubeconfig is not None else _default_kubeconfig_paths()
    where = os.pathsep.join(paths)
    if not any(os.path.isfile(p) for p in paths):
        if kubeconfig is None and context is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            return _connect_in_cluster()
        raise ClusterReadError(
            f"cannot load kubeconfig: no file at {where} — pass --kubeconfig, set KUBECONFIG, "
            "or create one (e.g. `aws eks update-kubeconfig`, `gcloud container clusters get-credentials`)"
        )
    try:
        # the files are passed explicitly: the client reads $KUBECONFIG only once, at import time
        return _new_client_from_config(config_file=where, context=context, persist_config=False)
    except Exception as exc:  # ConfigException, YAML, exec-plugin and file errors all end up here
        detail = " ".join(str(exc).split()) or type(exc).__name__
        ctx = f"context {context!r}" if context else "the current context"
        raise ClusterReadError(
            f"cannot load {ctx} from kubeconfig {where}: {detail} — "
            "check `kubectl config get-contexts` and pass --context/--kubeconfig"
        ) from None


def _connect_in_cluster() -> client.ApiClient:
    configuration = client.Configuration()
    try:
        _load_incluster_config(client_configuration=configuration)
    except Exception as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise ClusterReadError(
            f"cannot use the in-cluster service account: {detail} — "
            "mount a service account token or pass --kubeconfig"
        ) from None
    return client.ApiClient(configuration)


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "")
        return " ".join(str(body.get("message", "")).split())
    except (ValueError, AttributeError, TypeError):
        return ""


def _api_error(listing: _Listing, exc: ApiException) -> ClusterReadError:
    status = exc.status or 0
    what = f"cannot list {listing.plural}"
    if status == 401:
        hint = "the kubeconfig credentials were rejected; refresh them (log in again or renew the token)"
        return ClusterReadError(f"{what}: unauthorized (401) — {hint}")
    if status == 403:
        hint = f"the kubeconfig user needs get/list on {listing.plural} {listing.scope}"
        return ClusterReadError(f"{what}: forbidden (403) — {hint}")
    if status == 404:
        served = f"{listing.api_version} {listing.plural}"
        hint = f"the API server does not serve {served}; Kubernetes >= 1.21 is needed"
        return ClusterReadError(f"{what}: not found (404) — {hint}")
    detail = _status_message(exc) or (exc.reason or "").strip() or "no details"
    return ClusterReadError(
        f"{what}: HTTP {status} from the API server: {detail} — retry, or check the API server",
        transient=status >= 500 or status == 429,
    )


def _connection_error(listing: _Listing, api: client.ApiClient, exc: Exception) -> ClusterReadError:
    host = api.configuration.host
    reason = getattr(exc, "reason", None) or exc
    # (urllib3's NewConnectionError, a refused connection, is a ConnectTimeoutError subclass)
    timed_out = isinstance(reason, urllib3.exceptions.TimeoutError | TimeoutError)
    if timed_out and not isinstance(reason, urllib3.exceptions.NewConnectionError):
        # A TLS handshake that never completes shows up as a read timeout: no answer at all.
        _, read = REQUEST_TIMEOUT
        return ClusterReadError(
            f"cannot list {listing.plural}: the API server at {host} did not answer within {read}s "
            "(TLS handshake or response timeout) — check the network path to the API server "
            "(firewall, security groups, NetworkPolicy, proxy); the agent retries by itself",
            transient=True,
        )
    detail = " ".join(str(reason).split())
    return ClusterReadError(
        f"cannot list {listing.plural}: cannot reach the API server at {host} ({detail}) — "
        "check that the cluster is up and reachable from here and, with a kubeconfig, that the "
        "context is the right one",
        transient=True,
    )


def _page(
    api: client.ApiClient, listing: _Listing, token: str | None, versions: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `listing` as plain dicts with `kind`/`apiVersion` set, and the next continue token."""
    result = listing.method(api)(limit=PAGE_SIZE, _continue=token, _request_timeout=REQUEST_TIMEOUT)
    sanitize: Callable[[object], Any] = api.sanitize_for_serialization
    items = []
    for item in result.items or []:
        obj: dict[str, Any] = sanitize(item)
        obj["kind"] = listing.kind
        obj["apiVersion"] = listing.api_version
        items.append(obj)
    meta = sanitize(result.metadata) or {}
    if token is None and versions is not None:  # the first page's version is the listing's
        versions[listing.plural] = str(meta.get("resourceVersion") or "")
    return items, meta.get("continue") or None


class _ListingExpired(ClusterReadError):
    """A continue token expired part-way through a listing (410 Gone)."""


def _list_all(
    api: client.ApiClient, listing: _Listing, versions: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    for restart in range(_MAX_LIST_RESTARTS + 1):
        try:
            return [
                o for page in listing_pages(api, listing, {} if versions is None else versions) for o in page
            ]
        except _ListingExpired:
            if restart == _MAX_LIST_RESTARTS:
                raise
    raise AssertionError("unreachable")


def read_cluster(
    context: str | None, kubeconfig: str | None = None, *, workloads: bool = False
) -> list[dict[str, Any]]:
    """All nodes, pods, PodDisruptionBudgets and namespaces of the cluster, as plain dicts (with
    `workloads`, also its Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and CronJobs).

    `context` is a kubeconfig context name (None: the current context); `kubeconfig` a file path
    (None: $KUBECONFIG or ~/.kube/config). Read-only. Raises `ClusterReadError`.
    """
    return _read(context, kubeconfig, listings(workloads=workloads))


def read_nodes(context: str | None, kubeconfig: str | None = None) -> list[dict[str, Any]]:
    """The cluster's nodes only: all that identifying the cluster needs (a listing of its pods is not)."""
    return _read(context, kubeconfig, _LISTINGS[:1])


def _read(context: str | None, kubeconfig: str | None, wanted: tuple[_Listing, ...]) -> list[dict[str, Any]]:
    api = _connect(context, kubeconfig)
    try:
        objects: list[dict[str, Any]] = []
        for listing in wanted:
            objects.extend(_list_all(api, listing))
        return objects
    finally:
        close: Callable[[], None] = api.close
        close()


def listings(*, workloads: bool) -> tuple[_Listing, ...]:
    """What `read_cluster` lists, in order (the agent watches the same)."""
    return _LISTINGS + (_WORKLOAD_LISTINGS if workloads else ())


def listing_pages(
    api: client.ApiClient, listing: _Listing, versions: dict[str, str]
) -> Iterator[list[dict[str, Any]]]:
    """`listing`, one API page (`PAGE_SIZE` objects) at a time, so that a caller that sends each on
    never holds the whole listing; its resourceVersion goes into `versions`. A continue token that
    expires mid-way cannot be restarted quietly here (earlier pages are gone): it is a transient
    `ClusterReadError`, and the caller lists again from the start."""
    token: str | None = None
    while True:
        try:
            page, token = _page(api, listing, token, versions)
        except ApiException as exc:
            if exc.status == 410 and token is not None:
                raise _ListingExpired(
                    f"cannot list {listing.plural}: the listing kept expiring part-way (410 Gone) — "
                    "the API server compacts faster than it can be listed; retry later",
                    transient=True,
                ) from None
            raise _api_error(listing, exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _connection_error(listing, api, exc) from None
        except ValueError as exc:
            detail = " ".join(str(exc).split())[:300]
            raise ClusterReadError(
                f"cannot list {listing.plural}: unexpected response from the API server ({detail}) — "
                "check that the kubeconfig points at a Kubernetes API server"
            ) from None
        yield page
        if token is None:
            return
