"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (several replicas, one database)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["DatabaseError", "make_engine", "make_sessions", "safe_url", "transaction"]


class DatabaseError(RuntimeError):
    """The database URL is unusable; the message says why and names the URL without its password."""


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except Exception:
        raise DatabaseError(f"KUBEWISE_DATABASE_URL is not a database URL: {safe_url(url)}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False}, json_serializer=_dumps)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")  # the driver kubewise ships with
        return create_engine(parsed, pool_pre_ping=True, json_serializer=_dumps)
    raise DatabaseError(
        f"unsupported database {backend!r} in {safe_url(url)}: use sqlite:/// or postgresql://"
    )


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()  # JSON columns hold whole Kubernetes objects: the fast encoder


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # cascades delete a cluster's data with it
    cursor.execute("PRAGMA busy_timeout=5000")  # the CLI and a running server may write at once
    cursor.close()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back whole if it raises."""
    with sessions.begin() as session:
        yield session
