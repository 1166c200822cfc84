"""Small stand-ins, on loopback, for the GCE metadata server and Azure's instance metadata service:
each answers only requests with its required header, as the real ones do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["azure_imds", "gce_metadata"]


@contextmanager
def _serve(answer: Any) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code, headers, body = answer(self.path, self.headers)
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def gce_metadata(values: dict[str, str]) -> Iterator[str]:
    """`values`: path under /computeMetadata/v1/ -> text."""

    def answer(path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        if headers.get("Metadata-Flavor") != "Google":
            return 403, {}, b"Missing Metadata-Flavor:Google header."
        found = values.get(path.removeprefix("/computeMetadata/v1/"))
        if found is None:
            return 404, {"Metadata-Flavor": "Google"}, b"not found"
        return 200, {"Metadata-Flavor": "Google", "Content-Type": "application/text"}, found.encode()

    with _serve(answer) as url:
        yield url


@contextmanager
def azure_imds(compute: dict[str, Any]) -> Iterator[str]:
    def answer(path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        if headers.get("Metadata") != "true":
            return (
                400,
                {},
                json.dumps({"error": "Bad request. Required metadata header not specified"}).encode(),
            )
        if not path.startswith("/metadata/instance/compute?") or "api-version=" not in path:
            return 400, {}, b'{"error": "Bad request"}'
        return 200, {"Content-Type": "application/json"}, json.dumps(compute).encode()

    with _serve(answer) as url:
        yield url
