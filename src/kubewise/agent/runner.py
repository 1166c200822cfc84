"""The agent's loop: identify the cluster, register it, send a full snapshot, then changes and heartbeats.

Changes come from watches (`agent.watcher.ClusterWatch`) and are sent every `delta_seconds`; without
a watch (tests, `--once`) they are found by listing again and comparing each object's
`resourceVersion` with the last listing. Only get/list/watch calls: the agent never writes to the cluster.
A full snapshot is sent again whenever the platform asks (a heartbeat says `resync`, or a delta gets
409), so nothing is lost across a platform outage: the retries in `PlatformClient` wait it out and the
next snapshot carries everything that changed meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from kubewise import __version__
from kubewise.agent.cloud_facts import CloudFacts
from kubewise.agent.discovery import discover
from kubewise.agent.platform_client import PlatformClient, ResyncRequested
from kubewise.agent.settings import AgentSettings
from kubewise.agent.watcher import ClusterWatch
from kubewise.cloud.metadata import CloudMetadata

__all__ = ["Agent", "diff_listings"]

log = logging.getLogger("kubewise.agent")

Obj = dict[str, Any]
Key = tuple[str, str, str]
Versions = dict[Key, str]


def _key(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", ""))


def _versions(items: Sequence[Obj]) -> Versions:
    return {_key(o): str((o.get("metadata") or {}).get("resourceVersion", "")) for o in items}


def diff_listings(before: Versions, items: Sequence[Obj]) -> tuple[list[Obj], Versions]:
    """The changes from `before` to `items` (upserts of new or changed objects, deletes of gone ones)."""
    now = _versions(items)
    changes: list[Obj] = [{"op": "upsert", "object": o} for o in items if before.get(_key(o)) != now[_key(o)]]
    for kind, namespace, name in before.keys() - now.keys():
        meta = {"name": name, **({"namespace": namespace} if namespace else {})}
        changes.append({"op": "delete", "object": {"kind": kind, "metadata": meta}})
    return changes, now


class Agent:
    def __init__(
        self,
        settings: AgentSettings,
        platform: PlatformClient,
        read: Callable[[], list[Obj]],
        cloud: CloudMetadata | None,
        *,
        delta_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        facts: CloudFacts | None = None,
        watch: ClusterWatch | None = None,
        read_nodes: Callable[[], list[Obj]] | None = None,
    ) -> None:
        self._read_nodes = read_nodes  # for discovery; without it, the nodes of a full listing
        self.watch = watch  # when set, changes come from watches instead of listing again
        self.settings, self.platform, self.cloud, self.facts = settings, platform, cloud, facts
        self._read = read
        self.delta_seconds, self.clock = delta_seconds, clock
        self.cluster_id: str | None = settings.cluster_id
        self.sequence = 0
        self.versions: Versions = {}
        self.started = clock()
        self.last_ok: float | None = None  # last time the platform took what was sent

    def healthy(self) -> tuple[bool, str]:
        """For the health endpoint: the platform reached within three heartbeat intervals."""
        window = 3 * self.settings.heartbeat_seconds + 30
        since = self.clock() - (self.last_ok if self.last_ok is not None else self.started)
        if since <= window:
            return True, "starting" if self.last_ok is None else f"platform reached {since:.0f}s ago"
        return False, f"the platform has not been reached for {since:.0f}s"

    def read(self) -> list[Obj]:
        items = self.watch.snapshot() if self.watch is not None else self._read()
        return self.facts.apply(items) if self.facts is not None else items

    def connect(self) -> str:
        """Register the cluster (idempotent on the platform) unless CLUSTER_ID names it already; on AWS,
        start asking EC2 which nodes are spot."""
        body: dict[str, Any] = {}
        if self.cluster_id is None:
            listed = self._read_nodes() if self._read_nodes is not None else self._read()
            nodes = [o for o in listed if o.get("kind") == "Node"]
            body = discover(self.settings, nodes, self.cloud)
            self.cluster_id = self.platform.register(body)
            log.info("registered cluster", extra={"cluster_id": self.cluster_id})
        details = body.get("eks") or body.get("kops") or {}
        region = details.get("region") or self.settings.eks_region or self.settings.kops_region
        on_aws = "eks" in body or "kops" in body or self.settings.provider in ("eks", "kops")
        if self.facts is None and self.cloud is not None and on_aws and region:
            self.facts = CloudFacts(self.cloud, region)
        return self.cluster_id

    def snapshot(self) -> None:
        assert self.cluster_id is not None
        items = self.read()
        self.sequence += 1
        self.platform.snapshot(self.cluster_id, self.sequence, items)
        self.versions = _versions(items)
        self.last_ok = self.clock()
        log.info("sent snapshot", extra={"objects": len(items), "sequence": self.sequence})

    def send_changes(self) -> int:
        """One round of changes; a full snapshot instead when the platform (or a watch) needs one."""
        assert self.cluster_id is not None
        if self.watch is not None:
            drained = self.watch.drain()
            if drained is None:  # a watch expired: list again
                self.snapshot()
                return 0
            changes, versions = self._applied(drained), self.versions
        else:
            changes, versions = diff_listings(self.versions, self.read())
        try:
            self.platform.delta(self.cluster_id, self.sequence + 1, changes)
        except ResyncRequested:
            self.snapshot()
            return 0
        self.sequence += 1
        self.versions = versions
        self.last_ok = self.clock()
        return len(changes)

    def _applied(self, changes: list[Obj]) -> list[Obj]:
        if self.facts is None:
            return changes
        upserts = self.facts.apply([c["object"] for c in changes if c["op"] == "upsert"])
        it = iter(upserts)
        return [{"op": "upsert", "object": next(it)} if c["op"] == "upsert" else c for c in changes]

    def heartbeat(self) -> None:
        assert self.cluster_id is not None
        conditions = self.facts.conditions if self.facts is not None else []
        answer = self.platform.heartbeat(self.cluster_id, __version__, conditions)
        self.last_ok = self.clock()
        if answer.get("resync"):
            self.snapshot()

    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set: heartbeats every `heartbeat_seconds`, changes every `delta_seconds`."""
        self.connect()
        self.snapshot()
        now = self.clock()
        next_beat, next_delta = now, now + self.delta_seconds
        while not stop.is_set():
            now = self.clock()
            if now >= next_beat:
                self.heartbeat()
                next_beat = now + self.settings.heartbeat_seconds
            if now >= next_delta:
                self.send_changes()
                next_delta = now + self.delta_seconds
            stop.wait(max(0.0, min(next_beat, next_delta) - self.clock()))
