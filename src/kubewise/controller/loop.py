"""`Controller`: poll the platform, carry out each pending action in order, report the result.

An action that must wait (a PodDisruptionBudget, or an API server or cloud failing for now) is left
pending and tried again on the next poll;
the actions after it on the same node wait too, so a node is never deleted before it is drained.
"""

from __future__ import annotations

import logging
import threading

from kubewise.controller.executor import Executor
from kubewise.controller.kube import ControllerFatal
from kubewise.controller.platform import ControllerPlatform

__all__ = ["Controller"]

log = logging.getLogger("kubewise.controller")


class Controller:
    def __init__(self, platform: ControllerPlatform, executor: Executor, poll_seconds: float = 10.0) -> None:
        self.platform, self.executor, self.poll_seconds = platform, executor, poll_seconds

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
            self.run_once()
            stop.wait(self.poll_seconds)
