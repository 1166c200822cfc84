"""The agent's loop: identify the cluster, register it, send a full snapshot, then changes and heartbeats.

Changes come from watches (`agent.watcher.ClusterWatch`) and are sent every `delta_seconds`; without
a watch (tests, `--once`) they are found by listing again and comparing each object's
`resourceVersion` with the last listing. Only get/list/watch calls: the agent never writes to the cluster.

A platform outage does not end the agent once it is connected. A batch of changes the platform did
not take is kept and sent again under the same sequence number (the platform applies a sequence
once, so a batch that did arrive is not applied twice), while newer changes collect in the watch, one
entry per object; a snapshot that did not arrive is taken again. Memory stays bounded by the number
of objects, however long the outage. A full snapshot is also sent whenever the platform asks (a
heartbeat says `resync`, or a delta gets 409).

With a `UsageCollector`, containers' CPU and memory usage (the metrics API) is sent every
`usage_seconds` too, and its `MetricsAvailable` condition rides on the heartbeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from kubewise import __version__
from kubewise.agent.cloud_facts import CloudFacts
from kubewise.agent.cluster_reader import ClusterReadError
from kubewise.agent.discovery import discover
from kubewise.agent.platform_client import PlatformClient, PlatformUnreachable, ResyncRequested
from kubewise.agent.settings import AgentSettings
from kubewise.agent.usage import UsageCollector
from kubewise.agent.watcher import ClusterWatch
from kubewise.cloud.metadata import CloudMetadata, ClusterMetadata

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
        servers: Mapping[str, ClusterMetadata] | None = None,
        read_attempts: int = 6,
        read_wait: float = 30.0,
        usage: UsageCollector | None = None,
    ) -> None:
        # reading the cluster at start: a transient failure (a TLS handshake timing out, 5xx) is tried
        # again with backoff -- the reference's remedy is deleting the pod; this does it in place
        self._read_retry = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, ClusterReadError) and e.transient),
            wait=wait_random_exponential(multiplier=0.5, max=read_wait),
            stop=stop_after_attempt(read_attempts),
            reraise=True,
        )
        self.servers = servers  # the GKE / AKS metadata servers, by provider
        self._read_nodes = read_nodes  # for discovery; without it, the nodes of a full listing
        self.watch = watch  # when set, changes come from watches instead of listing again
        self.usage = usage  # when set, containers' usage is sent every `usage_seconds`
        self.settings, self.platform, self.cloud, self.facts = settings, platform, cloud, facts
        self._read = read
        self.delta_seconds, self.clock = delta_seconds, clock
        self.cluster_id: str | None = settings.cluster_id
        self.sequence = 0
        self.versions: Versions = {}
        self.started = clock()
        self.last_ok: float | None = None  # last time the platform took what was sent
        self.last_tick = self.started  # last time the loop went round (liveness)
        self.snapshot_due = False  # a snapshot was asked for or did not reach the platform
        self._unsent: tuple[int, list[Obj], Versions] | None = None  # a delta to send again

    def ready(self) -> tuple[bool, str]:
        """Readiness: the platform reached within three heartbeat intervals (or still starting)."""
        window = 3 * self.settings.heartbeat_seconds + 30
        since = self.clock() - (self.last_ok if self.last_ok is not None else self.started)
        if since <= window:
            return True, "starting" if self.last_ok is None else f"platform reached {since:.0f}s ago"
        return False, f"the platform has not been reached for {since:.0f}s"

    def alive(self) -> tuple[bool, str]:
        """Liveness: the loop went round recently. One call may retry for the client's whole budget,
        so the window is that budget plus a heartbeat interval and some slack; an outage of the
        platform alone does not make the agent restart."""
        window = self.platform.give_up_after + 2 * self.settings.heartbeat_seconds + 120
        since = self.clock() - self.last_tick
        if since <= window:
            return True, f"loop ran {since:.0f}s ago"
        return False, f"the agent's loop has not run for {since:.0f}s"

    def _relisted(self) -> list[Obj]:
        """Without a watch: the whole cluster listed again, to compare with the last listing."""
        items = self._read()
        return self.facts.apply(items) if self.facts is not None else items

    def _listed(self) -> Iterator[list[Obj]]:
        """The cluster for a snapshot, in pieces: API pages from the watch, or one whole listing."""
        if self.watch is not None:
            yield from self.watch.snapshot_pages()
        else:
            yield self._read()

    def connect(self) -> str:
        """Register the cluster (idempotent on the platform) unless CLUSTER_ID names it already; on AWS,
        start asking EC2 which nodes are spot."""
        body: dict[str, Any] = {}
        if self.cluster_id is None:
            listed = self._read_retry(self._read_nodes if self._read_nodes is not None else self._read)
            nodes = [o for o in listed if o.get("kind") == "Node"]
            body = discover(self.settings, nodes, self.cloud, self.servers)
            self.cluster_id = self.platform.register(body)
            log.info("registered cluster", extra={"cluster_id": self.cluster_id})
        details = body.get("eks") or body.get("kops") or {}
        region = details.get("region") or self.settings.eks_region or self.settings.kops_region
        on_aws = "eks" in body or "kops" in body or self.settings.provider in ("eks", "kops")
        if self.facts is None and self.cloud is not None and on_aws and region:
            self.facts = CloudFacts(self.cloud, region)
        return self.cluster_id

    def snapshot(self) -> None:
        """Everything, sent in pages of `snapshot_page_objects` as it is listed: the agent never holds
        the whole cluster (with a watch; re-listing reads it whole anyway)."""
        assert self.cluster_id is not None
        self.snapshot_due, self._unsent = True, None  # a snapshot carries every change
        self.sequence += 1
        size = self.settings.snapshot_page_objects
        versions: Versions = {}
        batch: list[Obj] = []
        sent = page = 0
        try:
            for listed in self._listed():
                if self.watch is None:  # only re-listing compares versions
                    versions.update(_versions(listed))
                batch.extend(listed)
                while len(batch) > size:  # one full page out; what remains may be the last
                    self._send_page(batch[:size], page, last=False)
                    batch, page, sent = batch[size:], page + 1, sent + size
            self._send_page(batch, page, last=True)
        except ResyncRequested as exc:  # a page the platform did not expect: start over next round
            log.warning(f"snapshot not taken ({exc}); sending it again")
            return
        self.versions = versions
        self.snapshot_due = False
        self.last_ok = self.clock()
        log.info("sent snapshot", extra={"objects": sent + len(batch), "sequence": self.sequence})

    def _send_page(self, items: list[Obj], page: int, *, last: bool) -> None:
        assert self.cluster_id is not None
        items = self.facts.apply(items) if self.facts is not None else items
        self.platform.snapshot(self.cluster_id, self.sequence, items, page=page, last=last)

    def send_changes(self) -> int:
        """One round of changes; a full snapshot instead when the platform (or a watch) needs one."""
        assert self.cluster_id is not None
        if self.snapshot_due:
            self.snapshot()
            return 0
        if self._unsent is None:
            if self.watch is not None:
                drained = self.watch.drain()
                if drained is None:  # a watch expired: list again
                    self.snapshot()
                    return 0
                changes, versions = self._applied(drained), self.versions
            else:
                changes, versions = diff_listings(self.versions, self._relisted())
            self._unsent = (self.sequence + 1, changes, versions)
        sequence, changes, versions = self._unsent
        try:
            self.platform.delta(self.cluster_id, sequence, changes)
        except ResyncRequested:
            self.snapshot()
            return 0
        self._unsent = None
        self.sequence, self.versions = sequence, versions
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
        conditions = conditions + (self.usage.conditions if self.usage is not None else [])
        answer = self.platform.heartbeat(self.cluster_id, __version__, conditions)
        self.last_ok = self.clock()
        if answer.get("resync"):
            self.snapshot()

    def send_usage(self) -> int:
        """One round of containers' usage; returns how many pods were sent."""
        assert self.cluster_id is not None
        return self.usage.collect(self.cluster_id) if self.usage is not None else 0

    def _step(self, step: Callable[[], object]) -> None:
        """One step of the loop; a platform that stays unreachable, or an API server that does not
        answer for a while, is logged and tried again on the next round."""
        self.last_tick = self.clock()
        try:
            step()
        except PlatformUnreachable as exc:
            log.error(f"{exc}; keeping what was not sent and trying again")
        except ClusterReadError as exc:
            if not exc.transient:
                raise
            log.error(f"reading the cluster failed: {exc}; trying again")
        self.last_tick = self.clock()

    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set: heartbeats every `heartbeat_seconds`, changes every `delta_seconds`.
        Registering is the one call whose failure ends the agent (there is nothing to keep yet)."""
        self.connect()
        self._step(self.snapshot)
        now = self.clock()
        next_beat, next_delta = now, now + self.delta_seconds
        usage_every = self.settings.usage_seconds if self.usage is not None else 0.0
        next_usage = now if usage_every > 0 else float("inf")
        while not stop.is_set():
            now = self.clock()
            if now >= next_beat:
                self._step(self.heartbeat)
                next_beat = now + self.settings.heartbeat_seconds
            if now >= next_delta:
                self._step(self.send_changes)
                next_delta = now + self.delta_seconds
            if now >= next_usage:
                self._step(self.send_usage)
                next_usage = now + usage_every
            self.last_tick = self.clock()
            stop.wait(max(0.0, min(next_beat, next_delta, next_usage) - self.clock()))
