"""The server's autoscaler loop: a cycle every `autoscaler_interval_seconds` for each automated cluster,
then the rightsizing step (`services.workload_actions`: apply-mode workloads, old usage pruned), and,
every five minutes, a cost sample of each cluster (cost over time) and its console view planned
again if it changed.

Started and stopped with the app (its lifespan). Each cluster's cycle is its own transaction on the
cluster's row, taken with SKIP LOCKED: with several replicas, each cluster's cycle runs on one of
them and the others move on. A cluster without a snapshot yet, or without prices for its region, is
skipped and logged; one failing cluster never stops the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from kubewise.server.context import Clock
from kubewise.server.db import repositories as repo
from kubewise.server.db import workload_usage
from kubewise.server.db.engine import transaction
from kubewise.server.services.autoscaling import run_cycle_for
from kubewise.server.services.cluster_views import refresh_views
from kubewise.server.services.cost_history import record_cost_samples
from kubewise.server.services.errors import ServiceError
from kubewise.server.services.workload_actions import rightsize_cluster

__all__ = ["AutoscalerLoop"]

log = logging.getLogger("kubewise.server.autoscaler")
COST_SAMPLE_EVERY = dt.timedelta(minutes=5)


class AutoscalerLoop:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, interval: float) -> None:
        self.sessions, self.clock, self.interval = sessions, clock, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One cycle for every automated cluster; returns the actions stored."""
        with transaction(self.sessions) as session:
            cluster_ids = repo.automated_clusters(session)
        stored = 0
        for cluster_id in cluster_ids:
            try:
                with transaction(self.sessions) as session:
                    row = repo.cluster_for_cycle(session, cluster_id)
                    if row is None or row.snapshot_at is None:
                        continue  # another replica has it, or nothing to plan on yet
                    result = run_cycle_for(session, row, self.clock())
                stored += len(result["actions"])
                log.info(
                    "autoscaler cycle",
                    extra={
                        "cluster_id": cluster_id,
                        "actions": len(result["actions"]),
                        "notes": result["notes"],
                    },
                )
            except ServiceError as exc:
                log.warning("autoscaler cycle skipped", extra={"cluster_id": cluster_id, "why": str(exc)})
            except Exception:  # a bug in one cluster's cycle must not stop the loop for the others
                log.exception("autoscaler cycle failed", extra={"cluster_id": cluster_id})
        return stored

    def rightsize(self) -> int:
        """The rightsizing step for every cluster with usage or rightsizing on (one transaction each,
        the cluster's row taken like a cycle's); returns the rightsize-workload actions stored."""
        with transaction(self.sessions) as session:
            cluster_ids = workload_usage.rightsizing_clusters(session)
        stored = 0
        for cluster_id in cluster_ids:
            try:
                with transaction(self.sessions) as session:
                    row = repo.cluster_for_cycle(session, cluster_id)
                    if row is None:
                        continue
                    stored += len(rightsize_cluster(session, row, self.clock())["actions"])
            except Exception:  # one cluster's failure must not stop the others
                log.exception("rightsizing step failed", extra={"cluster_id": cluster_id})
        return stored

    def sample_costs(self) -> int:
        """Cost-over-time samples for the clusters due one (every `COST_SAMPLE_EVERY`)."""
        try:
            with transaction(self.sessions) as session:
                return record_cost_samples(session, self.clock(), COST_SAMPLE_EVERY)
        except Exception:  # a failed sample must not stop the autoscaler
            log.exception("cost sampling failed")
            return 0

    def refresh_views(self) -> int:
        """The console's cluster views planned again where they are due (one transaction per run)."""
        try:
            with transaction(self.sessions) as session:
                return refresh_views(session, self.clock())
        except Exception:
            log.exception("planning cluster views failed")
            return 0

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="autoscaler-loop", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()
            self.rightsize()
            self.sample_costs()
            self.refresh_views()
