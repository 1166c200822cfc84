"""The agent's health endpoints (`HEALTH_PORT`, off unless set): what the pod's probes ask.

`GET /healthz` (liveness) answers 200 while the agent's loop keeps going round, and 503 when it has
stopped (a wedged call): the kubelet then restarts it, which is also the reference's own remedy for
a stuck agent. `GET /readyz` (readiness) answers 200 while the agent has reached the platform
recently (within three heartbeat intervals) or is still starting: a platform outage makes the agent
not ready, but does not restart it -- it keeps what it has not sent and sends it once it can.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from kubewise.agent.page_server import Page, PageServer

__all__ = ["HealthServer"]

Check = Callable[[], tuple[bool, str]]


class HealthServer(PageServer):
    def __init__(self, port: int, alive: Check, ready: Check, host: str = "0.0.0.0") -> None:
        checks = {"/healthz": alive, "/readyz": ready}

        def answer(path: str) -> Page:
            check = checks.get(path)
            if check is None:
                body = {"status": "unhealthy", "detail": "not found"}
                return 404, "application/json", json.dumps(body).encode()
            ok, detail = check()
            body = {"status": "ok" if ok else "unhealthy", "detail": detail}
            return (200 if ok else 503), "application/json", json.dumps(body).encode()

        super().__init__(port, host, answer)
