"""`kubewise server`, `kubewise db upgrade` and `kubewise admin ...`: run the platform and manage it.

The admin commands work on the database `KUBEWISE_DATABASE_URL` names (default: the embedded SQLite
file), with the server running or not; each is one transaction, so a failure changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kubewise.server.app import open_database, utc_now
from kubewise.server.db.engine import DatabaseError, transaction
from kubewise.server.run import serve
from kubewise.server.services.errors import ServiceError
from kubewise.server.services.identity import SCOPES, create_api_key, create_org, revoke_api_key
from kubewise.server.settings import ServerSettings

__all__ = ["admin_app", "db_app", "server"]

admin_app = typer.Typer(help="Organizations and API keys.", no_args_is_help=True)
db_app = typer.Typer(help="The platform's database.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _sessions(settings: ServerSettings) -> Any:  # a sessionmaker (the CLI stays free of SQLAlchemy)
    try:
        return open_database(settings.database_url)
    except DatabaseError as exc:
        raise _fail(str(exc), 2) from None


def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Run the platform API (migrations are applied first). Settings come from KUBEWISE_* variables."""
    try:
        serve(ServerSettings(), host, port)
    except DatabaseError as exc:
        raise _fail(str(exc), 2) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (the server also does this when it starts)."""
    _sessions(ServerSettings())
    typer.echo("database is up to date")


@admin_app.command("create-org")
def admin_create_org(name: Annotated[str, typer.Argument(help="Organization name (unique).")]) -> None:
    """Create an organization; prints its id."""
    sessions = _sessions(ServerSettings())
    try:
        with transaction(sessions) as session:
            org = create_org(session, name, utc_now())
    except ServiceError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"created organization {org.name} ({org.id})")


@admin_app.command("create-api-key")
def admin_create_api_key(
    org: Annotated[str, typer.Option("--org", help="Organization name.")],
    scope: Annotated[str, typer.Option("--scope", help=f"One of {', '.join(SCOPES)}.")] = "read",
    cluster: Annotated[str | None, typer.Option("--cluster", help="Cluster id (agent keys).")] = None,
    name: Annotated[str, typer.Option("--name", help="What the key is for.")] = "",
) -> None:
    """Create an API key. The key is printed alone on the last line, once: store it now."""
    sessions = _sessions(ServerSettings())
    try:
        with transaction(sessions) as session:
            row, plaintext = create_api_key(session, org, scope, utc_now(), cluster_id=cluster, name=name)
    except ServiceError as exc:
        raise _fail(exc.message) from None
    typer.echo(
        f"created {row.scope} API key {row.key_id} for organization {org}; it is shown only once:", err=True
    )
    typer.echo(plaintext)


@admin_app.command("revoke-api-key")
def admin_revoke_api_key(
    org: Annotated[str, typer.Option("--org", help="Organization name.")],
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after kw_).")],
) -> None:
    """Revoke an API key: calls with it get 401 from now on."""
    sessions = _sessions(ServerSettings())
    try:
        with transaction(sessions) as session:
            revoke_api_key(session, org, key_id, utc_now())
    except ServiceError as exc:
        raise _fail(exc.message) from None
    typer.echo(f"revoked API key {key_id}")
