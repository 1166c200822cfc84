"""Alembic migrations applied from code: at server start and by `kubewise db upgrade`.

Replicas starting together on one PostgreSQL take turns: the upgrade runs under an advisory lock, so
the first applies the migrations and the others find the schema at head.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text

__all__ = ["current_revision", "upgrade"]

_SCRIPTS = "kubewise.server:migrations"
_LOCK = 0x6B756265  # any constant shared by every kubewise process ("kube")


def _upgrade_on(connection: Connection) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", _SCRIPTS)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is there already)."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK})
            connection.commit()
        try:
            _upgrade_on(connection)
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK})
                connection.commit()


def current_revision(engine: Engine) -> str | None:
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
