"""A small client of the platform API for the CLI's commands that talk to a running `kubewise server`.

The key comes from `--api-key` or `KUBEWISE_API_KEY` and is sent only in the `X-API-Key` header; it
never appears in output or errors. Failures become `CliError` with the server's own message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import httpx
import typer

from kubewise.cli.inputs import CliError

__all__ = ["DEFAULT_SERVER", "EXIT_API", "ApiError", "KeyOpt", "PlatformClient", "ServerOpt", "report_errors"]

EXIT_API = 1  # the server refused or could not be reached
DEFAULT_SERVER = "http://127.0.0.1:8000"
# the options every command that talks to a running server takes
ServerOpt = Annotated[str, typer.Option("--server", envvar="KUBEWISE_API_URL", help="Platform API URL.")]
KeyOpt = Annotated[
    str | None, typer.Option("--api-key", envvar="KUBEWISE_API_KEY", help="API key.", show_default=False)
]


def report_errors(action: Callable[[], None]) -> None:
    """Run `action`; a `CliError` becomes `error: <message>` on stderr and its exit code."""
    try:
        action()
    except CliError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(exc.code) from None


class ApiError(CliError):
    """The server answered with an error status (kept, so callers can tell a 404 from the rest)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message, EXIT_API)
        self.status = status


class PlatformClient:
    def __init__(self, base_url: str, api_key: str | None, *, timeout: float = 30.0) -> None:
        if not api_key:
            raise CliError("no API key: pass --api-key or set KUBEWISE_API_KEY", 2)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers={"X-API-Key": api_key}, timeout=timeout
        )
        self._base = base_url

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise CliError(
                f"cannot reach the kubewise server at {self._base}: {type(exc).__name__}", EXIT_API
            ) from None
        if response.status_code >= 400:
            try:
                doc = response.json()
                message = str(doc.get("message") or response.reason_phrase)
                fields = [f"{v['field']}: {v['description']}" for v in doc.get("fieldViolations", [])[1:]]
            except (ValueError, AttributeError, KeyError, TypeError):
                message, fields = response.reason_phrase, []
            extra = "".join(f"\n  {f}" for f in fields)
            raise ApiError(f"server answered {response.status_code}: {message}{extra}", response.status_code)
        return response.json() if response.content else None
