"""A fake Kubernetes API server (http.server on 127.0.0.1) for the tests that read a live cluster.

Used by `tests/agent` (the cluster reader) and `tests/cli` (`kubewise savings --context`). It serves the
four list endpoints kubewise calls, with limit/continue pagination, bearer-token auth, injectable
failures, and a record of every request so that tests can assert the reads are read-only. For
`tests/doctor` it also lists ServiceAccounts, Secrets, Events, ConfigMaps and the RBAC cluster objects,
answers namespaced lists (`/api/v1/namespaces/{ns}/pods`, `/apis/apps/v1/namespaces/{ns}/deployments`,
...) from the same objects, filters on equality field selectors, and serves pod logs (`FakeApi.logs`).
For rightsizing it lists `metrics.k8s.io` PodMetrics (`METRICS`; `failures[METRICS]` turns it off),
filters on label selectors, answers `/version` (`FakeApi.git_version`) and, when `operable`, reads and
patches Deployments, StatefulSets and DaemonSets and resizes pods (`.../pods/{name}/resize`), merging
patches the way the API server does (strategic merge: containers by name).

kmock 0.8 was tried first but is not usable here: its pytest plugin imports `pytest_asyncio`, which it
does not declare (installing it breaks every pytest run without pytest-asyncio), and it fails with
HTTP 500 on `GET /api/v1/namespaces` (its URL parser takes `namespaces` for a namespace segment).
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml
from kubernetes.utils import parse_quantity

from kubewise.demo.kube_api import status_body

NODES = "/api/v1/nodes"
PODS = "/api/v1/pods"
PDBS = "/apis/policy/v1/poddisruptionbudgets"
NAMESPACES = "/api/v1/namespaces"
# listed in all namespaces here; `/api/v1/namespaces/{ns}/<plural>` (and the apps/v1 ones) answer the
# objects of that namespace (what `kubewise doctor` reads in the agent's namespace)
SERVICEACCOUNTS = "/api/v1/serviceaccounts"
SECRETS = "/api/v1/secrets"
EVENTS = "/api/v1/events"
CONFIGMAPS = "/api/v1/configmaps"
CLUSTERROLES = "/apis/rbac.authorization.k8s.io/v1/clusterroles"
CLUSTERROLEBINDINGS = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
METRICS = "/apis/metrics.k8s.io/v1beta1/pods"  # PodMetrics (metrics-server), listed like the others
TOKEN = "secret-token"
# where each kind of installed object is listed (what `kubewise connect --apply` writes, doctor reads)
LIST_PATHS = {
    "Deployment": "/apis/apps/v1/deployments",
    "ServiceAccount": SERVICEACCOUNTS,
    "Secret": SECRETS,
    "ClusterRole": CLUSTERROLES,
    "ClusterRoleBinding": CLUSTERROLEBINDINGS,
    "ConfigMap": CONFIGMAPS,
    "Namespace": NAMESPACES,
}
_LIST_KINDS = {
    NODES: "NodeList",
    PODS: "PodList",
    PDBS: "PodDisruptionBudgetList",
    NAMESPACES: "NamespaceList",
    **{
        f"/apis/apps/v1/{plural}": f"{kind}List"
        for plural, kind in (
            ("deployments", "Deployment"),
            ("replicasets", "ReplicaSet"),
            ("statefulsets", "StatefulSet"),
            ("daemonsets", "DaemonSet"),
        )
    },
    "/apis/batch/v1/jobs": "JobList",
    "/apis/batch/v1/cronjobs": "CronJobList",
    SERVICEACCOUNTS: "ServiceAccountList",
    SECRETS: "SecretList",
    EVENTS: "EventList",
    CONFIGMAPS: "ConfigMapList",
    CLUSTERROLES: "ClusterRoleList",
    CLUSTERROLEBINDINGS: "ClusterRoleBindingList",
    METRICS: "PodMetricsList",
}
_APPS = {"deployments", "statefulsets", "daemonsets"}  # the workloads the controller can patch


def _namespaced(path: str) -> tuple[str, str | None]:
    """`/api/v1/namespaces/ns/pods` -> (`/api/v1/pods`, "ns"); any other path -> (path, None)."""
    parts = path.strip("/").split("/")
    for prefix in (["api", "v1"], ["apis", "apps", "v1"], ["apis", "policy", "v1"]):
        n = len(prefix)
        if parts[:n] == prefix and len(parts) == n + 3 and parts[n] == "namespaces":
            return "/" + "/".join([*prefix, parts[n + 2]]), parts[n + 1]
    return path, None


def _field(obj: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        obj = obj.get(key) or {} if isinstance(obj, dict) else {}
    return obj if obj != {} else None


status = status_body  # a `metav1.Status` failure body, as the API server sends it


def _selector_terms(selector: str) -> list[str]:
    """`a=b,c in (x,y),!d` -> its terms (commas inside parentheses belong to the term)."""
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += char
    return [t for t in [*terms, current.strip()] if t]


def _selects(selector: str, labels: dict[str, str]) -> bool:
    """A label selector string (=, ==, !=, in, notin, exists, !key) against `labels`."""
    for term in _selector_terms(selector):
        words = term.replace("(", " ( ").split()
        if len(words) > 1 and words[1] in ("in", "notin"):
            values = {v.strip() for v in term[term.index("(") + 1 : term.rindex(")")].split(",")}
            inside = words[0] in labels and labels[words[0]] in values
            if inside != (words[1] == "in"):  # notin also matches objects without the key
                return False
        elif "!=" in term:
            key, value = (x.strip() for x in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (x.strip() for x in term.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif (term.startswith("!") and term[1:] in labels) or (
            not term.startswith("!") and term not in labels
        ):
            return False
    return True


def _merge(target: dict[str, Any], patch: dict[str, Any], strategic: bool) -> None:
    """Apply a merge patch to `target` in place: null deletes a key, maps merge; with `strategic`
    (the API server's strategic merge) `containers` lists merge by name, else lists are replaced."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, strategic)
        elif strategic and key == "containers" and isinstance(target.get(key), list):
            for item in value:
                same = next((c for c in target[key] if c.get("name") == item.get("name")), None)
                if same is None:
                    target[key].append({})
                    same = target[key][-1]
                _merge(same, item, strategic)
        elif isinstance(value, dict):  # a new map: its nulls delete nothing and are not kept
            target[key] = {}
            _merge(target[key], value, strategic)
        else:
            target[key] = copy.deepcopy(value)


def qos_class(pod: dict[str, Any]) -> str:
    """The pod's QoS class from its containers' resources (what an in-place resize may not change)."""
    containers = (pod.get("spec") or {}).get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    for r in resources:
        limits, requests = r.get("limits") or {}, r.get("requests") or {}
        for name in ("cpu", "memory"):
            limit = limits.get(name)
            if limit is None or parse_quantity(requests.get(name, limit)) != parse_quantity(limit):
                return "Burstable"
    return "Guaranteed"


class FakeApi:
    """Serves list endpoints with limit/continue pagination; records every request."""

    def __init__(self, objects: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.objects: dict[str, list[dict[str, Any]]] = {path: [] for path in _LIST_KINDS}
        self.objects.update(objects or {})
        self.failures: dict[str, tuple[int, dict[str, Any]]] = {}
        self.expire_continue_once: set[str] = set()
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.token = TOKEN
        self.rv = 42  # the cluster's resourceVersion counter
        self.events: dict[str, list[tuple[int, dict[str, Any]]]] = {}  # list path -> (version, watch event)
        self.oldest_watchable = 0  # a watch from an older version answers 410 Gone
        self.watch_failures: dict[str, tuple[int, dict[str, Any]]] = {}  # list path -> answer to a watch
        self.writable = False  # when True, POST/PUT/DELETE of single objects work (kubewise connect --apply)
        self.stored: dict[str, dict[str, Any]] = {}  # object path -> object
        self.forbid_writes = False
        self.operable = False  # when True, nodes can be patched/deleted and pods evicted (the controller)
        self.forbidden_ops: set[tuple[str, str]] = (
            set()
        )  # (verb, resource) answered 403, e.g. ("patch", "nodes")
        # pod logs: (namespace, pod, container, previous) -> text (`GET .../pods/{name}/log`)
        self.logs: dict[tuple[str, str, str, bool], str] = {}
        self.git_version = "v1.33.1"  # `GET /version`; in-place pod resize is on by default from 1.33
        self.resize_served = True  # False: `.../pods/{name}/resize` answers 404 (an older API server)

    def log_answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, str | dict[str, Any]] | None:
        """A container's log (text/plain, `previous=true` for the run before), or None for other paths."""
        url = urlparse(handler.path)
        parts = url.path.strip("/").split("/")
        if not (len(parts) == 7 and parts[:3] == ["api", "v1", "namespaces"] and parts[6] == "log"):
            return None
        query = parse_qs(url.query)
        self.requests.append((handler.command, url.path, query))
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, status(401, "Unauthorized", "Unauthorized")
        if url.path in self.failures:
            return self.failures[url.path]
        container = query.get("container", [""])[0]
        previous = query.get("previous", ["false"])[0] in ("true", "True", "1")
        text = self.logs.get((parts[3], parts[5], container, previous))
        if text is None and previous:  # what the kubelet answers when the container never restarted
            return 400, status(
                400,
                "BadRequest",
                f'previous terminated container "{container}" in pod "{parts[5]}" not found',
            )
        lines = (text or "").splitlines()
        tail = int(query.get("tailLines", [str(len(lines))])[0])
        return 200, "".join(f"{line}\n" for line in lines[len(lines) - min(tail, len(lines)) :])

    def _forbidden(self, verb: str, resource: str) -> tuple[int, dict[str, Any]] | None:
        if (verb, resource) not in self.forbidden_ops:
            return None
        return 403, status(403, "Forbidden", f'cannot {verb} resource "{resource}"')

    def _patched(
        self, listed: str, obj: dict[str, Any], body: dict[str, Any], content_type: str
    ) -> tuple[int, dict[str, Any]]:
        """`obj` (of list `listed`) patched as the API server would, stored with a new version."""
        if "strategic-merge-patch" not in content_type and "merge-patch" not in content_type:
            return 415, status(
                415, "UnsupportedMediaType", f"the body of {content_type} is not a merge patch"
            )
        patched = copy.deepcopy(obj)
        _merge(patched, body, strategic="strategic-merge-patch" in content_type)
        self.emit(listed, "MODIFIED", patched)
        return 200, self.objects[listed][-1]

    def _workload(
        self, method: str, parts: list[str], body: dict[str, Any] | None, content_type: str
    ) -> tuple[int, dict[str, Any]]:
        """GET or PATCH of one Deployment, StatefulSet or DaemonSet (`.../namespaces/ns/plural/name`)."""
        ns, plural, name = parts[4], parts[5], parts[6]
        refused = self._forbidden(method.lower(), plural)
        if refused is not None:
            return refused
        listed = f"/apis/apps/v1/{plural}"
        found = next(
            (
                o
                for o in self.objects[listed]
                if (o["metadata"]["name"], o["metadata"].get("namespace")) == (name, ns)
            ),
            None,
        )
        if found is None:
            return 404, status(404, "NotFound", f'{plural}.apps "{name}" not found')
        if method == "GET":
            return 200, found
        assert body is not None
        return self._patched(listed, found, body, content_type)

    def _resize(
        self, ns: str, name: str, body: dict[str, Any], content_type: str
    ) -> tuple[int, dict[str, Any]]:
        """PATCH .../pods/{name}/resize: only containers' resources may change, and not the QoS class."""
        if not self.resize_served:
            return 404, status(404, "NotFound", "the server could not find the requested resource")
        refused = self._forbidden("patch", "pods/resize")
        if refused is not None:
            return refused
        pod = next(
            (
                p
                for p in self.objects[PODS]
                if (p["metadata"]["name"], p["metadata"].get("namespace")) == (name, ns)
            ),
            None,
        )
        if pod is None:
            return 404, status(404, "NotFound", f'pods "{name}" not found')
        changed = [set(c) - {"name", "resources"} for c in (body.get("spec") or {}).get("containers") or []]
        if set(body) - {"spec"} or set(body.get("spec") or {}) - {"containers"} or any(changed):
            return 422, status(422, "Invalid", f'Pod "{name}" is invalid: only resources may be resized')
        after = copy.deepcopy(pod)
        _merge(after, body, strategic=True)
        if qos_class(after) != qos_class(pod):
            return 422, status(
                422,
                "Invalid",
                f'Pod "{name}" is invalid: Pod QOS Class may not change as a result of resizing',
            )
        return self._patched(PODS, pod, body, content_type)

    def _operate(
        self, method: str, path: str, body: dict[str, Any] | None, content_type: str = ""
    ) -> tuple[int, dict[str, Any]] | None:
        """Node patch/get/delete, pod eviction and resize, workload get/patch on the listed objects;
        None when `path` is not one."""
        parts = path.strip("/").split("/")
        if len(parts) == 7 and parts[:4] == ["apis", "apps", "v1", "namespaces"] and parts[5] in _APPS:
            return self._workload(method, parts, body, content_type)
        if (
            len(parts) == 7
            and parts[:3] == ["api", "v1", "namespaces"]
            and parts[4:7:2] == ["pods", "resize"]
        ):
            if method != "PATCH" or body is None:
                return 405, status(405, "MethodNotAllowed", "resize takes PATCH")
            return self._resize(parts[3], parts[5], body, content_type)
        if parts[:3] == ["api", "v1", "nodes"] and len(parts) == 4:
            verb = {"PATCH": "patch", "DELETE": "delete", "GET": "get"}.get(method, method.lower())
            if (verb, "nodes") in self.forbidden_ops:
                return 403, status(
                    403, "Forbidden", f'nodes "{parts[3]}" is forbidden: cannot {verb} resource "nodes"'
                )
            node = next((n for n in self.objects[NODES] if n["metadata"]["name"] == parts[3]), None)
            if node is None:
                return 404, status(404, "NotFound", f'nodes "{parts[3]}" not found')
            if method == "PATCH":
                assert body is not None
                for key, value in body.items():
                    node.setdefault(key, {}).update(value)
            elif method == "DELETE":
                self.emit(NODES, "DELETED", node)
            return 200, node
        if (
            len(parts) == 7
            and parts[:3] == ["api", "v1", "namespaces"]
            and parts[4] == "pods"
            and parts[6] == "eviction"
        ):
            if ("create", "pods/eviction") in self.forbidden_ops:
                return 403, status(
                    403, "Forbidden", 'pods "x" is forbidden: cannot create resource "pods/eviction"'
                )
            ns, name = parts[3], parts[5]
            pod = next(
                (
                    p
                    for p in self.objects[PODS]
                    if p["metadata"]["name"] == name and p["metadata"].get("namespace") == ns
                ),
                None,
            )
            if pod is None:
                return 404, status(404, "NotFound", f'pods "{name}" not found')
            labels = pod["metadata"].get("labels") or {}
            for pdb in self.objects[PDBS]:
                wanted = pdb["spec"].get("selector", {}).get("matchLabels", {})
                if pdb["metadata"].get("namespace") == ns and all(
                    labels.get(k) == v for k, v in wanted.items()
                ):
                    if pdb["status"]["disruptionsAllowed"] <= 0:
                        return 429, status(
                            429,
                            "TooManyRequests",
                            "Cannot evict pod as it would violate the pod's disruption budget.",
                        )
                    pdb["status"]["disruptionsAllowed"] -= 1
            self.emit(PODS, "DELETED", pod)
            return 201, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
        return None

    def _write(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        if self.forbid_writes:
            return 403, status(403, "Forbidden", f"cannot {method} {path}")
        if method == "POST":
            assert body is not None
            target = f"{path}/{body['metadata']['name']}"
            if target in self.stored:
                return 409, status(409, "AlreadyExists", f"{target} already exists")
            self.stored[target] = body
            return 201, body
        if path not in self.stored:
            return 404, status(404, "NotFound", f"{path} not found")
        if method == "DELETE":
            del self.stored[path]
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
        assert body is not None
        old = self.stored[path]
        if old.get("kind") == "Deployment" and old["spec"]["selector"] != body["spec"]["selector"]:
            return 422, status(422, "Invalid", "spec.selector: Invalid value: field is immutable")
        self.stored[path] = body
        return 200, body

    def version(self) -> dict[str, str]:
        """What `GET /version` answers (a `version.Info`)."""
        major, minor = self.git_version.lstrip("v").split(".")[:2]
        return {
            "major": major,
            "minor": minor,
            "gitVersion": self.git_version,
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.24.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    def emit(self, path: str, kind: str, obj: dict[str, Any]) -> None:
        """A change in the cluster: the list answers it from now on, and watches of `path` see it."""
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        meta = obj["metadata"]
        key = (meta["name"], meta.get("namespace"))
        self.objects[path] = [
            o
            for o in self.objects.get(path, [])
            if (o["metadata"]["name"], o["metadata"].get("namespace")) != key
        ]
        if kind != "DELETED":
            self.objects[path].append(obj)
        self.events.setdefault(path, []).append((self.rv, {"type": kind, "object": obj}))

    def watch_events(self, path: str, since: str) -> list[dict[str, Any]]:
        version = int(since or 0)
        if version < self.oldest_watchable:
            return [{"type": "ERROR", "object": status(410, "Expired", "too old resource version")}]
        return [event for rv, event in self.events.get(path, []) if rv > version]

    def respond(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        url = urlparse(handler.path)
        query = parse_qs(url.query)
        self.requests.append((handler.command, url.path, query))
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, status(401, "Unauthorized", "Unauthorized")
        if url.path in self.failures:
            return self.failures[url.path]
        if url.path.rstrip("/") == "/version" and handler.command == "GET":  # the client asks /version/
            return 200, self.version()
        if self.operable and not query.get("limit"):
            length = int(handler.headers.get("Content-Length") or 0)
            raw = handler.rfile.read(length) if length and handler.command != "GET" else b""
            content_type = handler.headers.get("Content-Type") or ""
            answer = self._operate(handler.command, url.path, json.loads(raw) if raw else None, content_type)
            if answer is not None:
                return answer
        if self.writable and handler.command in ("POST", "PUT", "DELETE"):
            length = int(handler.headers.get("Content-Length") or 0)
            raw = handler.rfile.read(length) if length else b""
            body = json.loads(raw) if raw and handler.command != "DELETE" else None
            return self._write(handler.command, url.path, body)
        if self.writable and handler.command == "GET" and url.path in self.stored:
            return 200, self.stored[url.path]  # GET of one written object (e.g. the aws-auth ConfigMap)
        path, namespace = _namespaced(url.path)
        if path not in self.objects:
            return 404, status(404, "NotFound", "the server could not find the requested resource")
        start = int(query.get("continue", ["0"])[0])
        if start and url.path in self.expire_continue_once:
            self.expire_continue_once.discard(url.path)
            return 410, status(410, "Expired", "The provided continue parameter is too old")
        listed = self.objects[path]
        if namespace is not None:
            listed = [o for o in listed if o["metadata"].get("namespace") == namespace]
        for selector in query.get("fieldSelector", []):  # equality terms: spec.nodeName=n1,type=Warning
            for term in selector.split(","):
                key, _, value = term.partition("=")
                listed = [o for o in listed if _field(o, key) == value]
        for selector in query.get("labelSelector", []):
            listed = [o for o in listed if _selects(selector, o["metadata"].get("labels") or {})]
        limit = int(query["limit"][0]) if "limit" in query else max(1, len(listed))
        items = listed[start : start + limit]
        more = start + limit < len(listed)
        metadata = {"resourceVersion": str(self.rv), **({"continue": str(start + limit)} if more else {})}
        kind = _LIST_KINDS.get(url.path, "List")
        return 200, {"kind": kind, "apiVersion": "v1", "metadata": metadata, "items": items}


@contextmanager
def serve(fake: FakeApi) -> Iterator[str]:
    """Run `fake` on a free local port for the duration of the block; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _watch(self, path: str, query: dict[str, list[str]]) -> None:
            """Stream the events after `resourceVersion` (for up to half a second), then hang up."""
            fake.requests.append(("GET", path, query))
            if path in fake.watch_failures:
                code, body = fake.watch_failures[path]
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            since = query.get("resourceVersion", ["0"])[0]
            deadline = time.monotonic() + min(0.5, float(query.get("timeoutSeconds", ["1"])[0]))
            while True:
                events = fake.watch_events(path, since)
                for event in events:
                    self.wfile.write(json.dumps(event).encode() + b"\n")
                    since = event["object"].get("metadata", {}).get("resourceVersion", since)
                self.wfile.flush()
                if any(e["type"] == "ERROR" for e in events) or time.monotonic() > deadline:
                    return
                time.sleep(0.05)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            watching = query.get("watch", [""])[0] in ("true", "True", "1") and url.path in fake.objects
            if watching and self.headers.get("Authorization") == f"Bearer {fake.token}":
                self._watch(url.path, query)
                return
            log = fake.log_answer(self)
            code, body = log if log is not None else fake.respond(self)
            text = isinstance(body, str)
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain" if text else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # recorded, so tests can assert read-only

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A local port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_kubeconfig(path: Path, url: str, token: str = TOKEN) -> Path:
    """A kubeconfig with contexts `fake` (current; `url`, valid token), `dead` (refused) and `stale`
    (`url`, rejected token)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "fake",
        "clusters": [
            {"name": "fake", "cluster": {"server": url}},
            {"name": "dead", "cluster": {"server": f"http://127.0.0.1:{closed_port()}"}},
        ],
        "users": [{"name": "me", "user": {"token": token}}, {"name": "stale", "user": {"token": "old"}}],
        "contexts": [
            {"name": "fake", "context": {"cluster": "fake", "user": "me"}},
            {"name": "dead", "context": {"cluster": "dead", "user": "me"}},
            {"name": "stale", "context": {"cluster": "fake", "user": "stale"}},
        ],
    }
    path.write_text(yaml.safe_dump(config))
    return path
