"""An emulated Kubernetes API server: objects in memory, served over HTTP on loopback.

`kubewise demo` connects the real agent and the real controller to it through the official
`kubernetes` client, so their code paths are the ones a real cluster exercises: paginated lists
(a continue token pages through one consistent listing, as etcd's snapshot does), watches from a
resourceVersion (410 once it is older than the kept history), reading, patching and deleting nodes,
and pod evictions (which a hook may refuse with 429, as a PodDisruptionBudget makes the API server
do). Requests need the bearer token. `DemoWorld` changes the objects in-process, under `lock`.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = ["COLLECTIONS", "KubeApiServer", "KubeStore", "Obj", "status_body"]

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace or "", name)

COLLECTIONS = {  # list path -> item kind, for everything the agent lists and watches
    "/api/v1/nodes": "Node",
    "/api/v1/pods": "Pod",
    "/api/v1/namespaces": "Namespace",
    "/apis/policy/v1/poddisruptionbudgets": "PodDisruptionBudget",
    "/apis/apps/v1/deployments": "Deployment",
    "/apis/apps/v1/replicasets": "ReplicaSet",
    "/apis/apps/v1/statefulsets": "StatefulSet",
    "/apis/apps/v1/daemonsets": "DaemonSet",
    "/apis/batch/v1/jobs": "Job",
    "/apis/batch/v1/cronjobs": "CronJob",
}
PATH_OF_KIND = {kind: path for path, kind in COLLECTIONS.items()}
NODES, PODS = "/api/v1/nodes", "/api/v1/pods"
VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.0-kubewise-demo", "platform": "linux/amd64"}


def status_body(code: int, reason: str, message: str) -> Obj:
    """A `metav1.Status` failure, as the API server answers one."""
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason,
            "message": message}  # fmt: skip


def _key(obj: Obj) -> Key:
    meta = obj["metadata"]
    return str(meta.get("namespace") or ""), str(meta["name"])


def _merge(into: Obj, patch: Obj) -> None:
    """A JSON merge patch (RFC 7386): what strategic merge does for the fields the controller sets."""
    for field, value in patch.items():
        if value is None:
            into.pop(field, None)
        elif isinstance(value, dict) and isinstance(into.get(field), dict):
            _merge(into[field], value)
        else:
            into[field] = copy.deepcopy(value)


class Expired(Exception):
    """A watch or continue token older than what the store keeps (the API server's 410 Gone)."""


class KubeStore:
    """The objects, their resourceVersions and the recent changes that watches replay."""

    def __init__(self, token: str, *, history: int = 20_000) -> None:
        self.token = token
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.objects: dict[str, dict[Key, Obj]] = {path: {} for path in COLLECTIONS}
        self.rv = 1
        self.events: deque[tuple[int, str, Obj]] = deque(maxlen=history)
        self.oldest = 0  # watches from before this version get 410
        self.listings: OrderedDict[str, tuple[list[Obj], int]] = OrderedDict()  # continue token -> rest
        self._tokens = itertools.count(1)
        self.closed = False
        # pod eviction: (namespace, name) -> None when allowed (the hook removes the pod), else why not
        self.on_evict: Callable[[str, str], str | None] | None = None

    # --- changes ---------------------------------------------------------------------------------
    def _emit(self, path: str, kind: str, obj: Obj) -> None:
        if len(self.events) == self.events.maxlen:
            self.oldest = self.events[0][0]
        self.events.append((self.rv, path, {"type": kind, "object": copy.deepcopy(obj)}))
        self.changed.notify_all()

    def put(self, obj: Obj) -> Obj:
        """Create or replace `obj` (its kind says where); returns the stored object."""
        path = PATH_OF_KIND[obj["kind"]]
        with self.lock:
            self.rv += 1
            obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
            existed = _key(obj) in self.objects[path]
            self.objects[path][_key(obj)] = obj
            self._emit(path, "MODIFIED" if existed else "ADDED", obj)
            return obj

    def delete(self, kind: str, namespace: str, name: str) -> Obj | None:
        path = PATH_OF_KIND[kind]
        with self.lock:
            obj = self.objects[path].pop((namespace, name), None)
            if obj is not None:
                self.rv += 1
                obj["metadata"]["resourceVersion"] = str(self.rv)
                self._emit(path, "DELETED", obj)
            return obj

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        with self.lock:
            return self.objects[PATH_OF_KIND[kind]].get((namespace, name))

    def all(self, kind: str) -> list[Obj]:
        """The stored objects themselves (change them only through `put`)."""
        with self.lock:
            return list(self.objects[PATH_OF_KIND[kind]].values())

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.changed.notify_all()

    # --- reads for the HTTP side -----------------------------------------------------------------
    def list_page(self, path: str, limit: int, token: str, node_name: str | None) -> Obj:
        with self.lock:
            if token:
                ident, _, _ = token.partition(":")
                if ident not in self.listings:
                    raise Expired("The provided continue parameter is too old")
                items, version = self.listings.pop(ident)
            else:
                items = [copy.deepcopy(o) for o in self.objects[path].values()]
                if node_name is not None:
                    items = [o for o in items if (o.get("spec") or {}).get("nodeName") == node_name]
                version = self.rv
            page, rest = (items[:limit], items[limit:]) if limit > 0 else (items, [])
            meta: Obj = {"resourceVersion": str(version)}
            if rest:
                ident = str(next(self._tokens))
                self.listings[ident] = (rest, version)
                while len(self.listings) > 64:  # abandoned listings do not pile up
                    self.listings.popitem(last=False)
                meta["continue"] = f"{ident}:{version}"
        return {"kind": f"{COLLECTIONS[path]}List", "apiVersion": "v1", "metadata": meta, "items": page}

    def events_since(self, path: str, version: int) -> list[Obj]:
        with self.lock:
            if version < self.oldest:
                raise Expired(f"too old resource version: {version} ({self.oldest})")
            return [event for rv, p, event in self.events if rv > version and p == path]

    def wait(self, timeout: float) -> None:
        with self.changed:
            if not self.closed:
                self.changed.wait(timeout)


class _Handler(BaseHTTPRequestHandler):
    store: KubeStore  # set on the subclass made per server
    protocol_version = "HTTP/1.1"  # chunked watch streams: the client sees each event as it is sent

    def log_message(self, *args: object) -> None:  # the demo prints its own progress
        pass

    def _send(self, code: int, body: Obj) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Obj:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def _serve(self) -> None:
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        body = self._body()  # read whatever was sent, so the connection can serve the next request
        if self.headers.get("Authorization") != f"Bearer {self.store.token}":
            self._send(401, status_body(401, "Unauthorized", "Unauthorized"))
            return
        if url.path == "/version":
            self._send(200, VERSION)
            return
        if url.path in COLLECTIONS and self.command == "GET":
            if query.get("watch") in ("true", "1", "True"):
                self._watch(url.path, query)
            else:
                self._list(url.path, query)
            return
        code, answer = self._object(url.path.strip("/").split("/"), body)
        self._send(code, answer)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def _list(self, path: str, query: dict[str, str]) -> None:
        node_name = None
        selector = query.get("fieldSelector", "")
        if selector:
            field, _, value = selector.partition("=")
            if field != "spec.nodeName" or path != PODS:
                self._send(400, status_body(400, "BadRequest", f"field selector {selector!r} not supported"))
                return
            node_name = value
        try:
            page = self.store.list_page(
                path, int(query.get("limit") or 0), query.get("continue", ""), node_name
            )
        except Expired as exc:
            self._send(410, status_body(410, "Expired", str(exc)))
            return
        self._send(200, page)

    def _watch(self, path: str, query: dict[str, str]) -> None:
        """Stream the changes after `resourceVersion` until `timeoutSeconds`, then end the response."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            self._stream(path, query)
        finally:
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True

    def _chunk(self, event: Obj) -> None:
        data = json.dumps(event).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _stream(self, path: str, query: dict[str, str]) -> None:
        since = int(query.get("resourceVersion") or self.store.rv)
        deadline = time.monotonic() + min(float(query.get("timeoutSeconds") or 60), 60)
        while not self.store.closed and time.monotonic() < deadline:
            try:
                events = self.store.events_since(path, since)
            except Expired as exc:
                self._chunk({"type": "ERROR", "object": status_body(410, "Expired", str(exc))})
                return
            for event in events:
                self._chunk(event)
                since = int(event["object"]["metadata"]["resourceVersion"])
            self.wfile.flush()
            if not events:
                self.store.wait(min(1.0, max(0.0, deadline - time.monotonic())))

    def _object(self, parts: list[str], body: Obj) -> tuple[int, Obj]:
        store, verb = self.store, self.command
        if parts[:3] == ["api", "v1", "nodes"] and len(parts) == 4:
            with store.lock:
                node = store.get("Node", "", parts[3])
                if node is None:
                    return 404, status_body(404, "NotFound", f'nodes "{parts[3]}" not found')
                if verb == "PATCH":
                    _merge(node, body)
                    store.put(node)
                elif verb == "DELETE":
                    store.delete("Node", "", parts[3])
                elif verb != "GET":
                    return 405, status_body(405, "MethodNotAllowed", f"{verb} is not supported on nodes")
                return 200, copy.deepcopy(node)
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) >= 6 and parts[4] == "pods":
            namespace, name = parts[3], parts[5]
            with store.lock:
                if store.get("Pod", namespace, name) is None:
                    return 404, status_body(404, "NotFound", f'pods "{name}" not found')
                if len(parts) == 7 and parts[6] == "eviction" and verb == "POST":
                    refused = store.on_evict(namespace, name) if store.on_evict else None
                    if refused is not None:
                        return 429, status_body(429, "TooManyRequests", refused)
                    if store.on_evict is None:
                        store.delete("Pod", namespace, name)
                    return 201, {"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201}
                if len(parts) == 6 and verb == "GET":
                    return 200, copy.deepcopy(store.get("Pod", namespace, name) or {})
        return 404, status_body(404, "NotFound", "the server could not find the requested resource")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-watch is normal (the agent stops its watches at exit)


class KubeApiServer:
    """`store` served on 127.0.0.1 (a free port unless given) from a background thread."""

    def __init__(self, store: KubeStore, port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"store": store})
        self.store = store
        self.httpd = _QuietServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="kube-api", daemon=True
        )

    def start(self) -> KubeApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.store.close()
        self.httpd.shutdown()
        self.httpd.server_close()

    def kubeconfig(self) -> Obj:
        """A kubeconfig (as a document) whose current context is this server, with the token."""
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "kubewise-demo",
            "clusters": [{"name": "kubewise-demo", "cluster": {"server": self.url}}],
            "users": [{"name": "kubewise-demo", "user": {"token": self.store.token}}],
            "contexts": [
                {"name": "kubewise-demo", "context": {"cluster": "kubewise-demo", "user": "kubewise-demo"}}
            ],
        }
