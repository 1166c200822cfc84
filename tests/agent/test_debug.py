"""The debug port: thread stacks and memory, on loopback only."""

from __future__ import annotations

import httpx

from kubewise.agent.debug import DebugServer


def test_threads_and_memory_pages() -> None:
    server = DebugServer(0).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        threads = httpx.get(f"{base}/debug/threads").text
        assert "--- thread MainThread" in threads and "test_threads_and_memory_pages" in threads
        memory = httpx.get(f"{base}/debug/memory").text
        assert memory.startswith("peak RSS ") and "MB" in memory
        assert httpx.get(f"{base}/other").status_code == 404
        assert server.server.server_address[0] == "127.0.0.1"
    finally:
        server.stop()
