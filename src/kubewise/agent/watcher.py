"""List + watch: the agent's view of the cluster between snapshots, without listing it again.

`snapshot_pages()` lists every kind (as `read_cluster` does), one API page at a time, and starts one
watch per kind from that listing's resourceVersion as soon as the listing is complete. Events
accumulate in `pending`, one entry per object (the latest wins), until `drain()` hands them over as a
delta. When the API server says a watch's version is too old
(410 Gone), `drain()` answers None: the agent lists everything again and sends a snapshot. Only list
and watch calls are made. Memory: the changes since the last drain, not the cluster.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import urllib3
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from kubewise.agent.cluster_reader import ClusterReadError, listing_pages, listings

__all__ = ["ClusterWatch"]

log = logging.getLogger("kubewise.agent")

Obj = dict[str, Any]
Key = tuple[str, str, str]


def _key(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", ""))


class ClusterWatch:
    def __init__(self, api: client.ApiClient, *, workloads: bool = True, timeout_seconds: int = 300) -> None:
        self.api, self.workloads, self.timeout_seconds = api, workloads, timeout_seconds
        self._lock = threading.Lock()
        self._pending: dict[Key, Obj] = {}
        self._expired = False
        self._fatal: str | None = None  # a watch the API server refuses for good (401/403)
        self._generation = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def snapshot(self) -> list[Obj]:
        """Everything, freshly listed, in one list; the watches (re)start from these versions."""
        return [obj for page in self.snapshot_pages() for obj in page]

    def snapshot_pages(self) -> Iterator[list[Obj]]:
        """Everything, freshly listed, one API page at a time; each kind's watch starts from its
        listing's version once that listing is done (events from then on wait in `pending`)."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._pending.clear()
            self._expired = False
        versions: dict[str, str] = {}
        for listing in listings(workloads=self.workloads):
            yield from listing_pages(self.api, listing, versions)
            thread = threading.Thread(
                target=self._watch,
                args=(listing, versions.get(listing.plural, ""), generation),
                name=f"watch-{listing.plural}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        self._threads = [t for t in self._threads if t.is_alive()]

    def drain(self) -> list[Obj] | None:
        """The changes since the last drain, or None when a watch expired (take a snapshot).
        Raises `ClusterReadError` when a watch is refused (RBAC): waiting will not fix that."""
        with self._lock:
            if self._fatal is not None:
                raise ClusterReadError(self._fatal)
            if self._expired:
                return None
            changes, self._pending = list(self._pending.values()), {}
        return changes

    def stop(self) -> None:
        self._stop.set()

    def _current(self, generation: int) -> bool:
        return not self._stop.is_set() and generation == self._generation

    def _watch(self, listing: Any, version: str, generation: int) -> None:
        failures = 0
        method: Callable[..., Any] = listing.method(self.api)
        while self._current(generation):
            # events as the JSON sent: no client-model validation that one unusual object could fail
            stream = watch.Watch(return_type="object")
            try:
                for event in stream.stream(
                    method,
                    resource_version=version,
                    allow_watch_bookmarks=True,
                    timeout_seconds=self.timeout_seconds,
                ):
                    if not self._current(generation):
                        stream.stop()
                        return
                    obj = event.get("raw_object") or {}  # the JSON as sent (also for BOOKMARK)
                    version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
                    if event.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                        obj["kind"], obj["apiVersion"] = listing.kind, listing.api_version
                        op = "delete" if event["type"] == "DELETED" else "upsert"
                        with self._lock:
                            if generation == self._generation:
                                self._pending[_key(obj)] = {"op": op, "object": obj}
                failures = 0
            except ApiException as exc:
                if exc.status == 410:  # the version is gone: only a new listing helps
                    with self._lock:
                        if generation == self._generation:
                            self._expired = True
                    return
                if exc.status in (401, 403):
                    why = "unauthorized (401)" if exc.status == 401 else "forbidden (403)"
                    with self._lock:
                        self._fatal = (
                            f"cannot watch {listing.plural}: {why} -- the agent's ClusterRole needs "
                            f"get/list/watch on {listing.plural} {listing.scope}"
                        )
                    return
                failures += 1
                log.warning("watch failed", extra={"objects": listing.plural})
            except (urllib3.exceptions.HTTPError, OSError, ValueError):
                failures += 1
            if failures:
                self._stop.wait(min(30.0, 0.5 * 2**failures) * random.uniform(0.5, 1.0))
