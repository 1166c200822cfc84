"""Prometheus metrics (one registry per app, no globals) and JSON log lines for every request."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["JsonFormatter", "Metrics", "install_observability"]

log = logging.getLogger("kubewise.server.access")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kubewise_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kubewise_http_request_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=self.registry,
        )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the fields passed in `extra`."""

    FIELDS = (
        "method",
        "route",
        "path",
        "status",
        "ms",
        "cluster_id",
        "action",
        "actions",
        "notes",
        "objects",
        "sequence",
        "why",
    )

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out)


def install_observability(app: FastAPI, metrics: Metrics) -> None:
    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")  # the template, so ids do not explode the labels
        seconds = time.perf_counter() - start
        metrics.requests.labels(request.method, template, str(response.status_code)).inc()
        metrics.latency.labels(request.method, template).observe(seconds)
        log.info(
            "request",
            extra={
                "method": request.method,
                "route": template,
                "path": request.url.path,  # never the query or headers: keys stay out of logs
                "status": response.status_code,
                "ms": round(seconds * 1000, 1),
            },
        )
        return response
