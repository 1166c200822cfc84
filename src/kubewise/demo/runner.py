"""`run_demo`: the platform, a simulated cluster, the real agent and the real controller, together.

Everything runs in this process, on loopback, with nothing outside it:
- the platform (`kubewise server`'s app) on a SQLite file, running an autoscaler cycle every
  `cycle_seconds` for the demo cluster, whose policies turn automation on;
- the example EKS cluster in an emulated Kubernetes API (`kube_api`), made live by `DemoWorld`
  (scheduler, workload controllers, kubelets) on a `SimulatedCloud` priced from the catalog;
- the agent (`agent.runner.Agent` with its list+watch) reading that API through the official
  client and sending snapshots and deltas to the platform;
- the controller (`controller.loop.Controller`) polling the platform's actions and carrying them
  out through the same API (cordon, evictions, node deletion) and the simulated cloud.
Part-way, a workload scales up and a spot node gets an interruption notice, so scale-up, spot
handling, consolidation and empty-node removal all show. The result is what the platform's API says.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import yaml

from kubewise.agent.cluster_reader import connect_api, read_cluster, read_nodes
from kubewise.agent.discovery import discover
from kubewise.agent.platform_client import PlatformClient
from kubewise.agent.runner import Agent
from kubewise.agent.settings import AgentSettings
from kubewise.agent.watcher import ClusterWatch
from kubewise.catalog.loading import load_region
from kubewise.cloud.simulated import SimulatedCloud
from kubewise.controller.executor import Executor
from kubewise.controller.kube import NodeOps
from kubewise.controller.loop import Controller
from kubewise.controller.platform import ControllerPlatform
from kubewise.demo.kube_api import KubeApiServer, KubeStore
from kubewise.demo.platform import embedded_platform
from kubewise.demo.world import DemoWorld, LockedCloud
from kubewise.server.observability import JsonFormatter
from kubewise.server.settings import ServerSettings

__all__ = ["DEMO_POLICIES", "DemoFailed", "DemoOptions", "run_demo"]

EXAMPLE = "eks-us-east-1.json"
ACCOUNT, REGION, CLUSTER_NAME = "000000000000", "us-east-1", "kubewise-demo"
DEMO_POLICIES: dict[str, Any] = {  # automation on, with short delays so that a few minutes show it all
    "enabled": True,
    "unschedulablePods": {"enabled": True},
    "nodeDownscaler": {"enabled": True, "emptyNodes": {"enabled": True, "delaySeconds": 15}},
    "spotInstances": {
        "enabled": True,
        "spotDiversityEnabled": True,
        "spotDiversityPriceIncreaseLimitPercent": 20,
        "spotBackups": {"enabled": True},
    },
    "evictor": {"enabled": True, "cycleInterval": 10},
    "clusterLimits": {"enabled": True, "cpu": {"minCores": 1, "maxCores": 400}},
}
log = logging.getLogger("kubewise.demo")


class DemoFailed(RuntimeError):
    """A part of the demo stopped; the message says which and why."""


@dataclass(frozen=True)
class DemoOptions:
    duration_seconds: float = 120.0
    data_dir: Path | None = None  # the SQLite file, kubeconfig and log; a new temporary one by default
    port: int = 0  # the platform's port (0: any free one)
    cycle_seconds: float = 2.0  # the platform's autoscaler interval
    provisioning_seconds: float = 5.0  # how long a new instance takes to join
    scale: tuple[str, str, int] = ("catalog", "image-resizer", 24)  # at 30 % of the run (from 4 replicas)
    interrupt_spot: int = 1  # spot nodes reclaimed at 55 % of the run


class _Parts:
    """The background threads; the first failure of any of them ends the demo."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.failure: str | None = None

    def start(self, name: str, target: Callable[[threading.Event], object]) -> None:
        def run() -> None:
            try:
                target(self.stop)
            except BaseException as exc:  # reported as the demo's failure
                self.failure = self.failure or f"the {name} stopped: {exc}"
                self.stop.set()

        thread = threading.Thread(target=run, name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(15)


def _loop(step: Callable[[], object], every: float) -> Callable[[threading.Event], None]:
    def run(stop: threading.Event) -> None:
        while not stop.is_set():
            step()
            stop.wait(every)

    return run


@contextmanager
def _logs_to(path: Path) -> Iterator[None]:
    """kubewise's and uvicorn's logs into `path` for the demo's duration (the terminal shows progress)."""
    handler = logging.FileHandler(path)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(n) for n in ("kubewise", "uvicorn", "uvicorn.error")]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    try:
        yield
    finally:
        for lg, (level, propagate) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate
        handler.close()


def _example_objects() -> list[dict[str, Any]]:
    text = resources.files("kubewise.examples").joinpath(EXAMPLE).read_text()
    return list(json.loads(text)["items"])


def run_demo(
    options: DemoOptions,
    data_dir: Path,
    on_event: Callable[[str], None],
    *,
    keep_running: Callable[[str, str, str], None] | None = None,
) -> dict[str, Any]:
    """Run the demo in `data_dir`; `on_event` gets one line per thing that happened. Returns the
    summary (see `docs/demo.md`). With `keep_running`, it is called with the platform's URL, the API
    key and the cluster id once the scripted part is over, and everything runs until it returns."""
    with ExitStack() as stack:
        stack.enter_context(_logs_to(data_dir / "demo.log"))
        settings = ServerSettings(
            database_url=f"sqlite:///{data_dir / 'kubewise.db'}",
            autoscaler_interval_seconds=options.cycle_seconds,
        )
        try:
            url, key = stack.enter_context(embedded_platform(settings, "demo", options.port))
        except RuntimeError as exc:
            raise DemoFailed(str(exc)) from None
        on_event(f"platform serving on {url} (SQLite: {data_dir / 'kubewise.db'})")

        catalog = load_region("aws", "us-east-1")
        cloud = LockedCloud(
            SimulatedCloud(catalog, time.monotonic, provisioning_seconds=options.provisioning_seconds)
        )
        store = KubeStore(token=secrets.token_urlsafe(24))
        world = DemoWorld(store, cloud, catalog, lambda: dt.datetime.now(dt.UTC))
        world.load(_example_objects())
        world.step()
        kube = KubeApiServer(store).start()
        stack.callback(kube.stop)
        kubeconfig = data_dir / "kubeconfig"
        kubeconfig.touch(mode=0o600)
        kubeconfig.write_text(yaml.safe_dump(kube.kubeconfig()))
        start_cost, start = world.hourly_cost(), world.counts()
        on_event(
            f"simulated EKS cluster at {kube.url}: {start['nodes']} nodes, {start['pods']} pods, "
            f"{start_cost:.2f} $/h"
        )

        api = httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30.0)
        stack.callback(api.close)
        agent_settings = AgentSettings(
            api_url=url,
            api_key=key,
            provider="eks",
            eks_account_id=ACCOUNT,
            eks_region=REGION,
            eks_cluster_name=CLUSTER_NAME,
        )
        body = discover(agent_settings, read_nodes(None, str(kubeconfig)), None)
        cluster_id = PlatformClient(url, key, attempts=3, max_wait=1.0).register(body)
        agent_key = _checked(api.post(f"/v1/kubernetes/external-clusters/{cluster_id}/agent-key"))["apiKey"]
        _checked(api.put(f"/v1/kubernetes/clusters/{cluster_id}/policies", json=DEMO_POLICIES))
        on_event(f"cluster {cluster_id} registered; automation on (policies: docs/demo.md)")

        parts = _Parts()
        stack.callback(parts.join)
        parts.start("cluster simulation", _loop(world.step, 0.5))
        agent = Agent(
            agent_settings.model_copy(
                update={
                    "api_key": agent_key,
                    "cluster_id": cluster_id,
                    "delta_seconds": 1.0,
                    "heartbeat_seconds": 5.0,
                }
            ),
            PlatformClient(url, agent_key),
            lambda: read_cluster(None, str(kubeconfig), workloads=True),
            None,
            watch=ClusterWatch(connect_api(None, str(kubeconfig)), timeout_seconds=30),
            delta_seconds=1.0,
        )
        stack.callback(lambda: agent.watch.stop() if agent.watch else None)
        parts.start("agent", agent.run)
        platform = ControllerPlatform(url, agent_key, cluster_id)
        controller = Controller(
            platform,
            Executor(NodeOps(connect_api(None, str(kubeconfig))), cloud, platform),
            poll_seconds=1.0,
            spot_prices=lambda: cloud.spot_prices(()),  # the simulated market quotes the catalog's prices
            spot_price_seconds=60.0,
        )
        parts.start("controller", controller.run)

        watcher = _ActionFeed(api, cluster_id, on_event)
        pending_pod_seconds = _play(options, world, parts, watcher, on_event)
        if parts.failure:
            raise DemoFailed(parts.failure)
        summary = _summary(api, cluster_id, world, start_cost, start, watcher, pending_pod_seconds)
        summary |= {"platform": url, "clusterId": cluster_id, "dataDir": str(data_dir)}
        if keep_running is not None:
            keep_running(url, key, cluster_id)
            if parts.failure:
                raise DemoFailed(parts.failure)
        return summary
    raise AssertionError("unreachable")  # pragma: no cover (ExitStack does not swallow exceptions)


def _checked(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise DemoFailed(f"the platform refused {response.request.method} {response.request.url.path}: "
                         f"{response.status_code} {response.text[:300]}")  # fmt: skip
    return response.json()


class _ActionFeed:
    """The platform's audit trail, read as it grows: one line per action carried out."""

    def __init__(self, api: httpx.Client, cluster_id: str, on_event: Callable[[str], None]) -> None:
        self.api, self.cluster_id, self.on_event = api, cluster_id, on_event
        self.reported: set[str] = set()
        self.finished: Counter[tuple[str, str]] = Counter()

    def poll(self, elapsed: float) -> None:
        items = _checked(self.api.get(f"/v1/kubernetes/clusters/{self.cluster_id}/actions?limit=500"))[
            "items"
        ]
        for item in reversed(items):  # oldest first
            if item["status"] == "pending" or item["id"] in self.reported:
                continue
            self.reported.add(item["id"])
            self.finished[(item["kind"], item["status"])] += 1
            what = item.get("node") or (
                f"{item['count']} x {item['instanceType']} {item['capacityType']} in {item['zone']}"
            )
            self.on_event(
                f"{elapsed:5.0f}s  {item['status']:<6} {item['kind']:<11} {what} -- {item['reason']}"
            )


def _play(
    options: DemoOptions, world: DemoWorld, parts: _Parts, feed: _ActionFeed, on_event: Callable[[str], None]
) -> float:
    """The scripted part: events at fixed shares of the run, a status line every 15 s."""
    began = time.monotonic()
    script: list[tuple[float, str, Callable[[], str]]] = [
        (0.30, "scale", lambda: _scale(world, *options.scale)),
        (0.55, "interrupt", lambda: _interrupt(world, options.interrupt_spot)),
    ]
    pending_pod_seconds, last, next_status = 0.0, began, began + 15
    while not parts.stop.is_set():
        now = time.monotonic()
        elapsed = now - began
        if elapsed >= options.duration_seconds:
            break
        while script and elapsed >= script[0][0] * options.duration_seconds:
            on_event(f"{elapsed:5.0f}s  event  {script.pop(0)[2]()}")
        counts = world.counts()
        pending_pod_seconds += counts["pendingPods"] * (now - last)
        last = now
        feed.poll(elapsed)
        if now >= next_status:
            on_event(
                f"{elapsed:5.0f}s  now    {counts['nodes']} nodes ({counts['spotNodes']} spot), "
                f"{counts['pendingPods']} pods pending, {world.hourly_cost():.2f} $/h"
            )
            next_status = now + 15
        parts.stop.wait(1.0)
    feed.poll(time.monotonic() - began)
    return pending_pod_seconds


def _scale(world: DemoWorld, namespace: str, owner: str, replicas: int) -> str:
    world.scale(namespace, owner, replicas)
    return f"{namespace}/{owner} scaled to {replicas} replicas"


def _interrupt(world: DemoWorld, count: int) -> str:
    nodes = world.interrupt_spot(count, grace_seconds=30.0)
    return (
        f"spot interruption notice for {', '.join(nodes)} (reclaimed in 30 s)"
        if nodes
        else "no spot node to reclaim"
    )


def _caught_up_cost(api: httpx.Client, cluster_id: str, world: DemoWorld) -> dict[str, Any]:
    """The platform's cost once its agent has reported the cluster's last changes (a node removed in
    the run's last second reaches it with the next delta), or after 15 s whatever it says."""
    deadline = time.monotonic() + 15.0
    while True:
        cost: dict[str, Any] = _checked(api.get(f"/v1/kubernetes/clusters/{cluster_id}/cost"))
        if len(cost["nodes"]) == world.counts()["nodes"] or time.monotonic() > deadline:
            return cost
        time.sleep(0.5)


def _summary(
    api: httpx.Client,
    cluster_id: str,
    world: DemoWorld,
    start_cost: float,
    start: dict[str, Any],
    feed: _ActionFeed,
    pending_pod_seconds: float,
) -> dict[str, Any]:
    cost = _caught_up_cost(api, cluster_id, world)
    end_cost, end = world.hourly_cost(), world.counts()
    cluster = _checked(api.get(f"/v1/kubernetes/external-clusters/{cluster_id}"))
    savings = _checked(api.get(f"/v1/kubernetes/clusters/{cluster_id}/savings"))
    plans = {p["name"]: p for p in savings.get("plans", [])}
    return {
        "clusterStatus": cluster.get("status"),
        "start": {"hourlyCost": round(start_cost, 4), **start},
        "end": {"hourlyCost": round(end_cost, 4), **end},
        "savedPercent": round(100 * (1 - end_cost / start_cost), 1) if start_cost else 0.0,
        "actions": {f"{kind} {status}": n for (kind, status), n in sorted(feed.finished.items())},
        "evictions": world.evictions,
        "lostPods": world.lost_pods,
        "pendingPodSeconds": round(pending_pod_seconds),
        "platformCost": {"hourlyCost": cost["hourlyCost"], "nodes": len(cost["nodes"])},
        "platformSavings": {
            name: {"hourlyCost": p.get("hourly_cost"), "lowerBound": p.get("lower_bound")}
            for name, p in plans.items()
        },
    }
