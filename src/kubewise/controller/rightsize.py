"""Carrying out a `rightsize-workload` action: new container requests (and limits) for one workload.

`Executor` hands over the action's `details` (`{"kind", "namespace", "name", "containers": {"<c>":
{"cpu": millicores, "memory": bytes, "cpuLimit"?, "memoryLimit"?}}}`), the whole recommendation: a
limit it leaves out (or gives as null) is one the container should not have, and is removed. The
workload's pods are found through its selector, and nothing is changed while a PodDisruptionBudget
covering them allows no disruption (the action stays pending, as a drain does on 429).

Where the API server resizes pods in place (Kubernetes >= 1.33: the `resize` subresource), each
running pod is patched there and keeps running. The pod template is then left alone unless its
update strategy is `OnDelete`: changing it would make the workload's controller restart every pod,
the disruption in-place resizing avoids; pods created later get the recommendation when the platform
applies it again. A resize the API server refuses (the QoS class would change, a memory limit may
not shrink yet) falls back to the template. Otherwise the pod template's requests are patched
(strategic merge, containers by name) and the workload's own controller rolls its pods. Every step is
idempotent: pods already at the target are skipped, a template patched twice changes nothing more.

A 403 fails the action saying which permission the controller's ClusterRole lacks; node actions go
on (a controller installed before rightsizing existed lacks these rules until it is re-applied).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity

from kubewise.model.kube_fields import Reader
from kubewise.model.kube_selectors import parse_label_selector

__all__ = ["IN_PLACE_SINCE", "WORKLOAD_KINDS", "Rightsizer", "label_selector"]

log = logging.getLogger("kubewise.controller")

Outcome = tuple[str, str] | None
_GONE = ""  # `_resize`: the pod is not there any more
IN_PLACE_SINCE = (1, 33)  # InPlacePodVerticalScaling beta, on by default
# kind -> (resource for RBAC hints, AppsV1Api method suffix)
WORKLOAD_KINDS = {
    "Deployment": ("deployments", "deployment"),
    "StatefulSet": ("statefulsets", "stateful_set"),
    "DaemonSet": ("daemonsets", "daemon_set"),
}


class _Forbidden(Exception):
    def __init__(self, verb: str, resource: str) -> None:
        super().__init__(
            f"forbidden (403) to {verb} {resource} -- give the controller's ClusterRole "
            f'"{verb}" on "{resource}" (check with: kubectl auth can-i {verb} {resource} '
            "--as=system:serviceaccount:kubewise-agent:kubewise-controller)"
        )


class _BadDetails(ValueError):
    pass


@dataclass(frozen=True)
class _Target:
    kind: str
    namespace: str
    name: str
    containers: dict[str, dict[str, Any]]  # container -> its `resources` patch

    @property
    def what(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _BadDetails(f"{where} must be a positive number, not {value!r}")
    return float(value)


def _cpu(millicores: float) -> str:
    return f"{max(1, round(millicores))}m"


def _memory(size: float) -> str:
    return str(max(1, round(size)))


def _resources(change: object, where: str) -> dict[str, Any]:
    """One container's recommendation as a `resources` patch (a limit left out or null is removed)."""
    if not isinstance(change, Mapping):
        raise _BadDetails(f"{where} must be an object")
    requests = {
        "cpu": _cpu(_number(change.get("cpu"), f"{where}.cpu")),
        "memory": _memory(_number(change.get("memory"), f"{where}.memory")),
    }
    limits: dict[str, str | None] = {}  # null: a strategic merge patch deletes the key
    for key, name, render in (("cpuLimit", "cpu", _cpu), ("memoryLimit", "memory", _memory)):
        value = change.get(key)
        limits[name] = None if value is None else render(_number(value, f"{where}.{key}"))
    return {"requests": requests, "limits": limits}


def _target(details: object) -> _Target:
    if isinstance(details, str):  # a platform may hand the JSON over as text
        try:
            details = json.loads(details)
        except ValueError:
            raise _BadDetails("details are not JSON") from None
    if not isinstance(details, Mapping):
        raise _BadDetails("details missing")
    fields = [details.get(k) for k in ("kind", "namespace", "name")]
    if not all(isinstance(f, str) and f for f in fields):
        raise _BadDetails("details need kind, namespace and name")
    kind, namespace, name = (str(f) for f in fields)
    if kind not in WORKLOAD_KINDS:
        raise _BadDetails(f"{kind} is not a kind the controller can resize ({', '.join(WORKLOAD_KINDS)})")
    containers = details.get("containers")
    if not isinstance(containers, Mapping) or not containers:
        raise _BadDetails("details.containers must name at least one container")
    patches = {str(c): _resources(change, f"containers.{c}") for c, change in containers.items()}
    return _Target(kind, namespace, name, patches)


def label_selector(selector: Mapping[str, Any]) -> str:
    """A `metav1.LabelSelector` as the `labelSelector` query string (`a=b,c in (x,y),!d`)."""
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], ",".join(expr.get("values") or [])
        terms.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}.get(
                op, f"!{key}"
            )
        )
    return ",".join(terms)


def _version(git_version: str) -> tuple[int, int] | None:
    found = re.match(r"v?(\d+)\.(\d+)", git_version or "")
    return (int(found[1]), int(found[2])) if found else None


def _same(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether a container's `resources` already are what the patch `wanted` sets."""
    for section in ("requests", "limits"):
        have = current.get(section) or {}
        for name, value in (wanted.get(section) or {}).items():
            if value is None:
                if name in have:
                    return False
            elif name not in have or parse_quantity(str(have[name])) != parse_quantity(value):
                return False
    return True


def _containers_patch(patches: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": name, "resources": resources} for name, resources in sorted(patches.items())]


def _summary(patches: Mapping[str, dict[str, Any]]) -> str:
    return "; ".join(
        f"{c}: cpu {r['requests']['cpu']}, memory {r['requests']['memory']}"
        for c, r in sorted(patches.items())
    )


class Rightsizer:
    def __init__(self, api: client.ApiClient) -> None:
        self.core, self.apps = client.CoreV1Api(api), client.AppsV1Api(api)
        self.policy, self.versions = client.PolicyV1Api(api), client.VersionApi(api)
        self.in_place: bool | None = None  # whether pods can be resized in place (asked once)
        self.waiting: dict[str, str] = {}  # workload -> the budget its action waits for

    def execute(self, details: object) -> Outcome:
        """`(status, message)` for the platform, or None while a PodDisruptionBudget says not now."""
        try:
            target = _target(details)
        except _BadDetails as exc:
            return "failed", f"bad rightsize-workload details: {exc}"
        try:
            return self._rightsize(target)
        except _Forbidden as exc:
            log.error(f"rightsizing {target.what}: {exc}")
            return "failed", f"not done: {exc}"

    def _call(self, verb: str, resource: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ApiException as exc:
            if exc.status == 403:
                raise _Forbidden(verb, resource) from None
            raise

    def _rightsize(self, target: _Target) -> Outcome:
        resource, suffix = WORKLOAD_KINDS[target.kind]
        read = getattr(self.apps, f"read_namespaced_{suffix}")
        try:
            workload = self._call(
                "get", resource, lambda: read(target.name, target.namespace, _preload_content=False)
            )
        except ApiException as exc:
            if exc.status == 404:
                return "failed", f"{target.what} is not in the cluster (removed since it was recommended)"
            raise
        obj: dict[str, Any] = json.loads(workload.data)
        template = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
        present = {str(c.get("name")) for c in template.get("containers") or []}
        patches = {c: r for c, r in target.containers.items() if c in present}
        if not patches:
            return (
                "failed",
                f"{target.what} has none of the containers {', '.join(sorted(target.containers))}",
            )
        pods = self._pods(target.namespace, (obj.get("spec") or {}).get("selector") or {})
        blocking = self._blocking_budget(target.namespace, pods)
        if blocking is not None:
            if self.waiting.get(target.what) != blocking:  # said once, not on every poll
                log.info(f"rightsizing {target.what} waits: {blocking}")
            self.waiting[target.what] = blocking
            return None
        self.waiting.pop(target.what, None)
        gone = sorted(set(target.containers) - present)
        note = f" (not in it any more: {', '.join(gone)})" if gone else ""
        if self._supports_in_place():
            outcome = self._resize_pods(target, obj, pods, patches, note)
            if outcome is not None:
                return outcome
        message = f"pod template set ({_summary(patches)}){note}; its controller rolls the pods"
        return self._patch_template(target, patches, message)

    def _pages(
        self, verb: str, resource: str, method: Callable[..., Any], **query: Any
    ) -> list[dict[str, Any]]:
        """Every object of a namespaced listing, 500 at a time, as the JSON the API server sent."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            extra = {"_continue": token} if token else {}
            call = functools.partial(method, limit=500, _preload_content=False, **query, **extra)
            answer = self._call(verb, resource, call)
            doc = json.loads(answer.data)
            found.extend(doc.get("items") or [])
            token = (doc.get("metadata") or {}).get("continue") or None
            if not token:
                return found

    def _pods(self, namespace: str, selector: Mapping[str, Any]) -> list[dict[str, Any]]:
        wanted = label_selector(selector)
        if not wanted:  # apps/v1 requires a selector; an empty one would take the whole namespace
            return []
        return self._pages(
            "list", "pods", self.core.list_namespaced_pod, namespace=namespace, label_selector=wanted
        )

    def _blocking_budget(self, namespace: str, pods: list[dict[str, Any]]) -> str | None:
        """Why the pods may not be disrupted now (a budget covering one of them allows none), or None."""
        if not pods:
            return None
        budgets = self._pages(
            "list",
            "poddisruptionbudgets",
            self.policy.list_namespaced_pod_disruption_budget,
            namespace=namespace,
        )
        labels = [(p.get("metadata") or {}).get("labels") or {} for p in pods]
        for budget in budgets:
            meta = budget.get("metadata") or {}
            reader = Reader(f"PodDisruptionBudget {namespace}/{meta.get('name')}")
            selector = parse_label_selector(reader, budget.get("spec") or {}, "selector", "spec")
            allowed = int((budget.get("status") or {}).get("disruptionsAllowed") or 0)
            if allowed <= 0 and any(selector.matches(pod) for pod in labels):
                return f"PodDisruptionBudget {namespace}/{meta.get('name')} allows no disruption now"
        return None

    def _supports_in_place(self) -> bool:
        if self.in_place is None:
            try:
                info = self.versions.get_code()
                version = _version(str(info.git_version or ""))
            except (ApiException, ValueError) as exc:  # /version is public: this is unusual; be safe
                log.warning(f"server version unknown ({str(exc)[:200]}): pods are not resized in place")
                version = None
            self.in_place = version is not None and version >= IN_PLACE_SINCE
        return self.in_place

    def _resize_pods(
        self,
        target: _Target,
        obj: Mapping[str, Any],
        pods: list[dict[str, Any]],
        patches: Mapping[str, dict[str, Any]],
        note: str,
    ) -> Outcome:
        """Each running pod resized in place; None when the template has to do it instead."""
        running = [
            p
            for p in pods
            if (p.get("status") or {}).get("phase") == "Running"
            and not (p.get("metadata") or {}).get("deletionTimestamp")
        ]
        resized = unchanged = 0
        for pod in running:
            containers = (pod.get("spec") or {}).get("containers") or []
            current = {str(c.get("name")): c.get("resources") or {} for c in containers}
            wanted = {c: r for c, r in patches.items() if c in current and not _same(current[c], r)}
            if not wanted:
                unchanged += 1
                continue
            refused = self._resize(target.namespace, pod["metadata"]["name"], wanted)
            if refused == _GONE:
                continue
            if refused is not None:
                log.info(f"rightsizing {target.what}: not in place ({refused}); patching its pod template")
                return None
            resized += 1
        if not resized and not unchanged:
            return None  # no running pod: the template is all there is
        spec = obj.get("spec") or {}
        strategy = (spec.get("updateStrategy") or spec.get("strategy") or {}).get("type")
        done = f"{resized} pod(s) resized in place ({_summary(patches)})"
        done += f", {unchanged} already at it" if unchanged else ""
        if strategy == "OnDelete":  # changing the template restarts nothing: new pods get it too
            return self._patch_template(target, patches, f"{done}{note}; pod template updated (OnDelete)")
        kept = "pod template left as is (changing it would restart every pod)"
        return "done", f"{target.what}: {done}{note}; {kept}"

    def _resize(self, namespace: str, name: str, wanted: Mapping[str, dict[str, Any]]) -> str | None:
        """One pod's `resize` subresource patched (None); `_GONE` when the pod went away meanwhile;
        else why the API server will not do it."""
        body = {"spec": {"containers": _containers_patch(wanted)}}
        try:
            self._call(
                "patch",
                "pods/resize",
                lambda: self.core.patch_namespaced_pod_resize(
                    name,
                    namespace,
                    body,
                    _content_type="application/strategic-merge-patch+json",
                    _preload_content=False,
                ),
            )
        except ApiException as exc:
            message = _message(exc)
            if exc.status == 404 and f'"{name}"' in message:
                return _GONE  # its replacement comes from the template
            if exc.status == 404:
                self.in_place = False  # the subresource is not served here
                return "the API server does not serve pods/resize"
            if exc.status in (400, 422):
                return message or f"HTTP {exc.status}"
            raise
        return None

    def _patch_template(self, target: _Target, patches: Mapping[str, dict[str, Any]], done: str) -> Outcome:
        """The pod template's containers patched; `done` is what to report when it worked."""
        resource, suffix = WORKLOAD_KINDS[target.kind]
        patch = getattr(self.apps, f"patch_namespaced_{suffix}")
        body = {"spec": {"template": {"spec": {"containers": _containers_patch(patches)}}}}
        try:
            self._call(
                "patch",
                resource,
                lambda: patch(
                    target.name,
                    target.namespace,
                    body,
                    _content_type="application/strategic-merge-patch+json",
                    _preload_content=False,
                ),
            )
        except ApiException as exc:
            if exc.status in (400, 404, 422):
                return "failed", f"{target.what}: the API server refused the new requests: {_message(exc)}"
            raise
        return "done", f"{target.what}: {done}"


def _message(exc: ApiException) -> str:
    try:
        return " ".join(str(json.loads(exc.body or "").get("message", "")).split())[:500]
    except (ValueError, AttributeError):
        return (exc.reason or "").strip()
