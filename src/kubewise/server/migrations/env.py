"""Alembic environment: runs on the connection that `kubewise.server.db.migrate` passes in."""

from __future__ import annotations

from alembic import context

from kubewise.server.db.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
