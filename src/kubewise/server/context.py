"""Per-request plumbing the routes depend on: the caller (from `X-API-Key`), transactions, the clock,
and request bodies that may be gzip-compressed and are size-limited before and after decompression."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, TypeVar

import orjson
from fastapi import Depends, Header, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from kubewise.server.db.engine import transaction
from kubewise.server.services.errors import FieldViolation, Invalid, ServiceError
from kubewise.server.services.identity import Caller, authenticate
from kubewise.server.settings import ServerSettings

__all__ = ["Clock", "Ctx", "Platform", "RequestContext", "read_json"]

Clock = Callable[[], dt.datetime]
Model = TypeVar("Model", bound=BaseModel)


class TooLarge(ServiceError):
    status, code = 413, "too_large"


@dataclass(frozen=True, slots=True)
class Platform:
    """What every request needs, built once per process by `app.create_app`."""

    settings: ServerSettings
    sessions: sessionmaker[Session]
    clock: Clock


@dataclass(frozen=True, slots=True)
class RequestContext:
    platform: Platform
    caller: Caller
    now: dt.datetime

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with transaction(self.platform.sessions) as session:
            yield session

    @property
    def settings(self) -> ServerSettings:
        return self.platform.settings


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def _context(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="API key (`kubewise admin create-api-key`)")] = None,
) -> RequestContext:
    platform = _platform(request)
    now = platform.clock()
    with transaction(platform.sessions) as session:
        caller = authenticate(session, x_api_key, now)
    return RequestContext(platform, caller, now)


Ctx = Annotated[RequestContext, Depends(_context)]


async def _raw_body(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body over {limit} bytes")
        chunks.append(chunk)
    data = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").lower()
    if encoding == "identity":
        return data
    if encoding != "gzip":
        raise Invalid(f"unsupported Content-Encoding {encoding!r}: send gzip or nothing")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(data, limit + 1)
    except zlib.error as exc:
        raise Invalid(f"the gzip body is corrupt: {exc}") from None
    if len(out) > limit or inflate.unconsumed_tail:
        raise TooLarge(f"request body over {limit} bytes once decompressed")
    if not inflate.eof:
        raise Invalid("the gzip body is truncated")
    return out


async def read_json(request: Request, model: type[Model]) -> Model:
    """The request's JSON body as `model`; 422 naming the field on anything else."""
    data = await _raw_body(request, _platform(request).settings.max_body_bytes)
    try:
        raw = orjson.loads(data)  # several times faster than json on multi-hundred-MB snapshots
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not JSON: {exc}") from None
    del data  # the text of a snapshot is as large again as its objects: not kept past parsing
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        violations = [
            FieldViolation(
                ".".join(str(p) for p in e["loc"]) or "body", e["msg"].removeprefix("Value error, ")
            )
            for e in exc.errors()
        ]
        first = violations[0]
        raise Invalid(f"invalid request: {first.field}: {first.description}", violations) from None
