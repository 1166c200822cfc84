"""JSON error bodies for every failure:
`{"message", "code", "fieldViolations": [{"field", "description"}]}`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kubewise.server.services.errors import ResyncRequired, ServiceError

__all__ = ["error_body", "install_error_handlers"]

log = logging.getLogger("kubewise.server")


def error_body(message: str, code: str, violations: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"message": message, "code": code, "fieldViolations": violations or []}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


async def _service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    body = error_body(
        exc.message, exc.code, [{"field": v.field, "description": v.description} for v in exc.violations]
    )
    if isinstance(exc, ResyncRequired):
        body["resync"] = True
    return JSONResponse(body, status_code=exc.status)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    violations = [
        {"field": _field(tuple(e["loc"])), "description": e["msg"].removeprefix("Value error, ")}
        for e in exc.errors()
    ]
    first = violations[0] if violations else {"field": "body", "description": "invalid"}
    message = f"invalid request: {first['field']}: {first['description']}"
    return JSONResponse(error_body(message, "invalid", violations), status_code=422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}
    return JSONResponse(
        error_body(str(exc.detail), code.get(exc.status_code, "error")),
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)  # the body says nothing of the internals
    return JSONResponse(error_body("internal error; see the server log", "internal"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
