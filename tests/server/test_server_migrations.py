"""Migrations: applied from nothing, idempotent, and the schema they make is the one the tables declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kubewise.server.db.engine import make_engine
from kubewise.server.db.migrate import current_revision, upgrade
from kubewise.server.db.tables import Base


def test_upgrade_from_nothing_twice_matches_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)  # a second start finds the schema at head
    assert current_revision(engine) == "0009"
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    engine.dispose()
