"""`python -m benchmarks.agent`: the agent's CPU time and peak memory on an emulated large cluster.

The cluster is `--nodes` nodes and `--pods` pods (the example cluster's objects cloned, as the ingest
benchmark does); its API is emulated by handing the agent those objects as a listing, and the platform
by a client that only gzips and counts what it would send. Measured in a child process: one full
snapshot, then `--rounds` rounds of changes with `--changes` pods changed per round, as watches deliver
them (default) or found by listing again (`--relist`).
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import resource
import time
from typing import Any

from benchmarks.ingest import _objects
from benchmarks.memory import peak_rss_mib


class _CountingPlatform:
    """Stands for PlatformClient: encodes and compresses each body like it, then drops it."""

    def __init__(self) -> None:
        self.sent = 0

    def _send(self, body: Any) -> None:
        import gzip

        import orjson

        self.sent += len(gzip.compress(orjson.dumps(body), compresslevel=1))

    def register(self, body: dict[str, Any]) -> str:
        return "c-1"

    def snapshot(
        self, cluster_id: str, sequence: int, items: list[dict[str, Any]], *, page: int = 0, last: bool = True
    ) -> None:
        self._send({"sequence": sequence, "items": items, "page": page, "last": last})

    def delta(self, cluster_id: str, sequence: int, changes: list[dict[str, Any]]) -> None:
        self._send({"sequence": sequence, "changes": changes})

    def heartbeat(self, cluster_id: str, version: str, conditions: Any = None) -> dict[str, Any]:
        return {"status": "Connected", "resync": False}


class _StubWatch:
    """Stands for ClusterWatch: a snapshot is a listing; each drain, the round's changed pods."""

    def __init__(
        self, read: Any, objects: list[Any], pods: list[int], changes: int, state: dict[str, int]
    ) -> None:
        self.read, self.objects, self.pods, self.changes, self.state = read, objects, pods, changes, state

    def snapshot_pages(self) -> Any:
        # what paginated list calls return: fresh objects, 500 (the agent's page size) per call
        for start in range(0, len(self.objects), 500):
            yield copy.deepcopy(self.objects[start : start + 500])

    def drain(self) -> list[dict[str, Any]]:
        self.read_round()
        r = self.state["round"]
        picked = [
            self.objects[self.pods[(r * self.changes + j) % len(self.pods)]] for j in range(self.changes)
        ]
        return [{"op": "upsert", "object": copy.deepcopy(o)} for o in picked]

    def read_round(self) -> None:
        r = self.state["round"]
        if r > self.state["applied"]:
            for j in range(self.changes):
                self.objects[self.pods[(r * self.changes + j) % len(self.pods)]]["metadata"][
                    "resourceVersion"
                ] = f"r{r}"
            self.state["applied"] = r


def _child(args: argparse.Namespace, queue: Any) -> None:
    from kubewise.agent.runner import Agent
    from kubewise.agent.settings import AgentSettings

    objects = _objects(args.nodes, args.pods)
    pods = [i for i, o in enumerate(objects) if o["kind"] == "Pod"]
    state = {"round": 0, "applied": 0}

    def read() -> list[dict[str, Any]]:
        # what a list call would return: fresh objects each time; each round `--changes` pods changed
        r = state["round"]
        if r > state["applied"]:
            for j in range(args.changes):
                objects[pods[(r * args.changes + j) % len(pods)]]["metadata"]["resourceVersion"] = f"r{r}"
            state["applied"] = r
        return copy.deepcopy(objects)

    settings = AgentSettings(
        api_key="x",
        cluster_id="c-1",
        provider="eks",
        eks_account_id="1",
        eks_region="us-east-1",
        eks_cluster_name="bench",
    )
    platform = _CountingPlatform()
    watch = _StubWatch(read, objects, pods, args.changes, state) if args.watch else None
    agent = Agent(settings, platform, read, None, watch=watch)  # type: ignore[arg-type]
    before = resource.getrusage(resource.RUSAGE_SELF)
    cluster_rss = peak_rss_mib()  # the emulated cluster is built: the baseline
    wall = time.perf_counter()
    agent.connect()
    agent.snapshot()
    snap_cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - before.ru_utime
    snap_wall = time.perf_counter() - wall
    round_wall = []
    for r in range(1, args.rounds + 1):
        state["round"] = r
        start = time.perf_counter()
        assert agent.send_changes() == args.changes
        round_wall.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_SELF)
    queue.put(
        {
            "snapshot_s": snap_wall,
            "snapshot_cpu_s": snap_cpu,
            "round_s": sum(round_wall) / len(round_wall),
            "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            "peak_rss_mb": peak_rss_mib(),
            "cluster_rss_mb": cluster_rss,
            "sent_mb": platform.sent / 1e6,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.agent", description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument(
        "--relist",
        dest="watch",
        action="store_false",
        help="find changes by listing again (the agent's mode without watches)",
    )
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(args, queue))
    child.start()
    r = queue.get()
    child.join()
    mode = "watch" if args.watch else "re-list"
    print(
        f"agent ({mode}): {args.nodes} nodes + {args.pods} pods, "
        f"{args.rounds} rounds of {args.changes} changes"
    )
    print(
        f"snapshot {r['snapshot_s']:.1f} s wall, {r['snapshot_cpu_s']:.1f} s cpu; one round of changes "
        f"{r['round_s']:.1f} s; cpu in all {r['cpu_s']:.1f} s; peak RSS {r['peak_rss_mb']:.0f} MB "
        f"(the emulated cluster alone: {r['cluster_rss_mb']:.0f} MB); sent {r['sent_mb']:.1f} MB gzip"
    )


if __name__ == "__main__":
    main()
