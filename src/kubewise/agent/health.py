"""The agent's health endpoint (`HEALTH_PORT`, off unless set): what the pod's probes ask.

`GET /healthz` answers 200 while the agent has reached the platform recently (within three heartbeat
intervals) or is still starting, and 503 once it has not: the kubelet then restarts it, which is also
the reference's own remedy for a stuck agent.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from kubewise.agent.page_server import Page, PageServer

__all__ = ["HealthServer"]


class HealthServer(PageServer):
    def __init__(self, port: int, healthy: Callable[[], tuple[bool, str]], host: str = "0.0.0.0") -> None:
        def answer(path: str) -> Page:
            if path != "/healthz":
                body = {"status": "unhealthy", "detail": "not found"}
                return 404, "application/json", json.dumps(body).encode()
            ok, detail = healthy()
            body = {"status": "ok" if ok else "unhealthy", "detail": detail}
            return (200 if ok else 503), "application/json", json.dumps(body).encode()

        super().__init__(port, host, answer)
