"""The agent's debug port (`DEBUG_PORT`, off unless set; loopback only, reach it with
`kubectl port-forward`): `/debug/threads` prints every thread's stack, `/debug/memory` the process's
peak memory and, when started with `PYTHONTRACEMALLOC`, the 25 largest allocation sites."""

from __future__ import annotations

import resource
import sys
import threading
import traceback
import tracemalloc

from kubewise.agent.page_server import Page, PageServer

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


class DebugServer(PageServer):
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        pages = {"/debug/threads": threads_report, "/debug/memory": memory_report}

        def answer(path: str) -> Page:
            page = pages.get(path)
            body = page() if page else "not found: /debug/threads, /debug/memory\n"
            return (200 if page else 404), "text/plain; charset=utf-8", body.encode()

        super().__init__(port, host, answer)
