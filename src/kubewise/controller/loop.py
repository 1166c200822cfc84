"""`Controller`: poll the platform, carry out each pending action in order, report the result.

An action that must wait (a PodDisruptionBudget, or an API server or cloud failing for now) is left
pending and tried again on the next poll;
the actions after it on the same node wait too, so a node is never deleted before it is drained.
Every `spot_price_seconds` it also reports the cloud's current spot prices, which the platform plans
with in place of the catalog's estimates; a cloud that will not tell (no permission) is logged, not
fatal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kubewise.cloud.metadata import CloudQueryError
from kubewise.controller.executor import Executor
from kubewise.controller.kube import ControllerFatal
from kubewise.controller.platform import ControllerPlatform

__all__ = ["Controller"]

log = logging.getLogger("kubewise.controller")


class Controller:
    def __init__(
        self,
        platform: ControllerPlatform,
        executor: Executor,
        poll_seconds: float = 10.0,
        *,
        spot_prices: Callable[[], dict[str, float]] | None = None,
        spot_price_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform, self.executor, self.poll_seconds = platform, executor, poll_seconds
        self.read_spot_prices, self.spot_price_seconds, self.clock = spot_prices, spot_price_seconds, clock
        self._prices_due = clock()

    def report_spot_prices(self) -> int:
        """Send the cloud's spot prices when they are due; returns how many types were reported."""
        if self.read_spot_prices is None or self.spot_price_seconds <= 0 or self.clock() < self._prices_due:
            return 0
        self._prices_due = self.clock() + self.spot_price_seconds
        try:
            prices = self.read_spot_prices()
        except CloudQueryError as exc:
            log.warning(f"spot prices not read (plans keep the catalog's estimates): {exc}")
            return 0
        if prices:
            self.platform.spot_prices(prices)
        return len(prices)

    def run_once(self) -> int:
        """One poll; returns how many actions were finished (done or failed)."""
        finished = 0
        waiting: set[str] = set()  # nodes with an action that has to wait
        for action in self.platform.pending():
            node = action.get("node")
            if node is not None and node in waiting:
                continue
            try:
                outcome = self.executor.execute(action)
            except ControllerFatal:
                raise
            except Exception as exc:  # the API server or cloud failing now: the action stays pending
                log.warning(f"action {action['id']} failed for now: {str(exc)[:300]}")
                outcome = None
            if outcome is None:
                if node is not None:
                    waiting.add(node)
                continue
            status, message = outcome
            self.platform.result(action["id"], status, message)
            log.info("action finished", extra={"action": action["id"], "status": status})
            finished += 1
        return finished

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.report_spot_prices()
            self.run_once()
            stop.wait(self.poll_seconds)
