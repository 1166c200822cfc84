"""The agent's health endpoint (`HEALTH_PORT`, off unless set): what the pod's probes ask.

`GET /healthz` answers 200 while the agent has reached the platform recently (within three heartbeat
intervals) or is still starting, and 503 once it has not: the kubelet then restarts it, which is also
the reference's own remedy for a stuck agent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["HealthServer"]


class HealthServer:
    def __init__(self, port: int, healthy: Callable[[], tuple[bool, str]], host: str = "0.0.0.0") -> None:
        check = healthy

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ok, detail = check() if self.path == "/healthz" else (False, "not found")
                code = 200 if ok else (404 if detail == "not found" else 503)
                body = json.dumps({"status": "ok" if ok else "unhealthy", "detail": detail}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
