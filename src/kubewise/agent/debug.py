"""The agent's debug port (`DEBUG_PORT`, off unless set; loopback only, reach it with
`kubectl port-forward`): `/debug/threads` prints every thread's stack, `/debug/memory` the process's
peak memory and, when started with `PYTHONTRACEMALLOC`, the 25 largest allocation sites."""

from __future__ import annotations

import resource
import sys
import threading
import traceback
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["DebugServer", "memory_report", "threads_report"]


def threads_report() -> str:
    names = {t.ident: t.name for t in threading.enumerate()}
    out = []
    for ident, frame in sys._current_frames().items():
        out.append(f"--- thread {names.get(ident, '?')} ({ident})\n{''.join(traceback.format_stack(frame))}")
    return "\n".join(out)


def memory_report() -> str:
    lines = [f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"]
    if tracemalloc.is_tracing():
        for stat in tracemalloc.take_snapshot().statistics("lineno")[:25]:
            lines.append(str(stat))
    else:
        lines.append("allocation sites: start the agent with PYTHONTRACEMALLOC=1 to see them")
    return "\n".join(lines) + "\n"


class DebugServer:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        pages = {"/debug/threads": threads_report, "/debug/memory": memory_report}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = pages.get(self.path)
                body = (page() if page else "not found: /debug/threads, /debug/memory\n").encode()
                self.send_response(200 if page else 404)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
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

    def start(self) -> DebugServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
