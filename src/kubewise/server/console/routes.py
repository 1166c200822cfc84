"""`/console`: the web console's pages and forms.

Every page but sign-in needs the session cookie; without it (or when the session ended) the browser
is sent to sign in. Forms post back with the session's CSRF token; an unknown cluster, or another
organization's, is a 404 page like the API's.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from kubewise import __version__
from kubewise.server.console import views
from kubewise.server.console.sessions import (
    SESSION_LIFETIME,
    ConsoleSession,
    end_session,
    open_session,
    start_session,
)
from kubewise.server.context import Platform
from kubewise.server.db.engine import transaction
from kubewise.server.services import clusters, policies, workloads
from kubewise.server.services.errors import ServiceError, Unauthorized

__all__ = ["COOKIE", "router", "static_files"]

COOKIE = "kubewise_session"
SIGN_IN_COOKIE = "kubewise_sign_in"
_HERE = Path(__file__).parent
templates = Jinja2Templates(directory=_HERE / "templates")
templates.env.globals["version"] = __version__
templates.env.filters["dollars"] = views.dollars
router = APIRouter(prefix="/console", include_in_schema=False)


def static_files() -> StaticFiles:
    return StaticFiles(directory=_HERE / "static")


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


_HEADERS = {  # pages only: no scripts at all, no framing, nothing from elsewhere
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status, headers=_HEADERS)


def _to_sign_in(message: str = "") -> RedirectResponse:
    response = RedirectResponse("/console/sign-in" + ("?ended=1" if message else ""), status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


def _session(request: Request, token: str | None) -> ConsoleSession:
    platform = _platform(request)
    with transaction(platform.sessions) as session:
        return open_session(session, token, platform.clock())


Token = Annotated[str | None, Cookie(alias=COOKIE)]


@router.get("")
def home() -> RedirectResponse:
    return RedirectResponse("/console/clusters", status_code=303)


def _sign_in_form(request: Request, status: int = 200, note: str = "", error: str = "") -> HTMLResponse:
    """The sign-in page with a fresh form token, also set as a cookie: a sign-in posted from another
    site (login CSRF) has no matching pair."""
    token = secrets.token_urlsafe(24)
    page = _page(request, "sign_in.html", status=status, note=note, error=error, signin=token)
    page.set_cookie(SIGN_IN_COOKIE, token, max_age=3600, path="/console", httponly=True, samesite="strict",
                    secure=request.url.scheme == "https")  # fmt: skip
    return page


@router.get("/sign-in")
def sign_in_page(request: Request, ended: int = 0) -> HTMLResponse:
    return _sign_in_form(request, note="Your session ended: sign in again." if ended else "")


@router.post("/sign-in")
def sign_in(
    request: Request,
    api_key: Annotated[str, Form()] = "",
    signin: Annotated[str, Form()] = "",
    expected: Annotated[str | None, Cookie(alias=SIGN_IN_COOKIE)] = None,
) -> Response:
    if not expected or not hmac.compare_digest(signin, expected):
        return _sign_in_form(
            request, 403, error="The sign-in form is stale or came from elsewhere: try again."
        )
    platform = _platform(request)
    try:
        with transaction(platform.sessions) as session:
            token = start_session(session, api_key, platform.clock())
    except ServiceError as exc:
        return _sign_in_form(request, exc.status, error=exc.message)
    response = RedirectResponse("/console/clusters", status_code=303)
    response.delete_cookie(SIGN_IN_COOKIE, path="/console")
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
def sign_out(request: Request, token: Token = None, csrf: Annotated[str, Form()] = "") -> Response:
    console = _form_session(request, token, csrf)
    if not isinstance(console, ConsoleSession):
        return console
    platform = _platform(request)
    with transaction(platform.sessions) as session:
        end_session(session, token)
    return _to_sign_in()


@router.get("/clusters")
def cluster_list(request: Request, token: Token = None) -> Response:
    try:
        console = _session(request, token)
    except Unauthorized:
        return _to_sign_in("ended" if token else "")
    platform = _platform(request)
    now = platform.clock()
    with transaction(platform.sessions) as session:
        rows = views.cluster_rows(session, console.caller, now, platform.settings)
    return _page(request, "clusters.html", clusters=rows, csrf=console.csrf_token)


@router.get("/clusters/{cluster_id}")
def cluster_detail(
    request: Request, cluster_id: str, token: Token = None, page: int = 1, saved: int = 0
) -> Response:
    try:
        console = _session(request, token)
    except Unauthorized:
        return _to_sign_in("ended" if token else "")
    return _cluster(request, console, cluster_id, page, note="Policies saved." if saved else "")


def _cluster(
    request: Request, console: ConsoleSession, cluster_id: str, page: int, note: str = "", error: str = "",
    status: int = 200,
) -> Response:  # fmt: skip
    platform = _platform(request)
    now = platform.clock()
    try:
        with transaction(platform.sessions) as session:
            data = views.cluster_page(session, console.caller, cluster_id, now, platform.settings, page)
    except ServiceError as exc:
        return _page(request, "error.html", status=exc.status, message=exc.message, csrf=console.csrf_token)
    can_write = console.caller.scope == "full"
    return _page(
        request, "cluster.html", status=status, cluster=data, csrf=console.csrf_token, note=note, error=error,
        can_write=can_write,
    )  # fmt: skip


@router.post("/clusters/{cluster_id}/policies")
async def save_policies(request: Request, cluster_id: str, token: Token = None) -> Response:
    try:
        console = _session(request, token)
    except Unauthorized:
        return _to_sign_in("ended" if token else "")
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        console.check_csrf(form.get("csrf"))
        console.caller.require_write()  # before reading the form: a 'read' key is told so, whatever it sent
    except ServiceError as exc:
        return _page(request, "error.html", status=exc.status, message=exc.message, csrf=console.csrf_token)
    try:
        body = views.policies_from_form(form)
    except ValueError as exc:
        return _cluster(request, console, cluster_id, 1, error=str(exc), status=422)
    platform = _platform(request)
    try:
        with transaction(platform.sessions) as session:
            # the editor has no rightsizing fields: keep what the cluster has
            body.rightsizing = policies.get_policies(session, console.caller, cluster_id).rightsizing
            policies.put_policies(session, console.caller, cluster_id, body, platform.clock())
    except ServiceError as exc:
        return _cluster(request, console, cluster_id, 1, error=exc.message, status=exc.status)
    return RedirectResponse(f"/console/clusters/{cluster_id}?saved=1", status_code=303)


def _form_session(request: Request, token: str | None, csrf: str) -> ConsoleSession | Response:
    """The session a form was posted in (its CSRF token checked), or the page to answer with."""
    try:
        console = _session(request, token)
        console.check_csrf(csrf)
    except Unauthorized:
        return _to_sign_in("ended" if token else "")
    except ServiceError as exc:
        return _page(request, "error.html", status=exc.status, message=exc.message)
    return console


@router.post("/clusters/{cluster_id}/delete")
def delete(
    request: Request, cluster_id: str, token: Token = None, csrf: Annotated[str, Form()] = ""
) -> Response:
    console = _form_session(request, token, csrf)
    if not isinstance(console, ConsoleSession):
        return console
    platform = _platform(request)
    try:
        with transaction(platform.sessions) as session:
            clusters.delete_cluster(session, console.caller, cluster_id)
    except ServiceError as exc:
        return _page(request, "error.html", status=exc.status, message=exc.message, csrf=console.csrf_token)
    return RedirectResponse("/console/clusters", status_code=303)


@router.post("/clusters/{cluster_id}/reconnect")
def reconnect(
    request: Request, cluster_id: str, token: Token = None, csrf: Annotated[str, Form()] = ""
) -> Response:
    console = _form_session(request, token, csrf)
    if not isinstance(console, ConsoleSession):
        return console
    platform = _platform(request)
    try:
        with transaction(platform.sessions) as session:
            clusters.reconnect(session, console.caller, cluster_id, platform.clock(), platform.settings)
    except ServiceError as exc:
        return _cluster(request, console, cluster_id, 1, error=exc.message, status=exc.status)
    return RedirectResponse(f"/console/clusters/{cluster_id}", status_code=303)


@router.get("/connect")
def connect_page(request: Request, token: Token = None) -> Response:
    try:
        console = _session(request, token)
    except Unauthorized:
        return _to_sign_in("ended" if token else "")
    server = str(request.base_url).rstrip("/")
    commands = {
        provider: f'kubewise connect --provider {provider} --server {server} --api-key "$KUBEWISE_API_KEY"'
        f"{extra} | kubectl apply -f -"
        for provider, extra in (
            ("eks", " --account-id ACCOUNT_ID"),
            ("gke", ""),
            ("aks", ""),
            ("kops", " --cluster-name NAME"),
        )
    }
    return _page(request, "connect.html", commands=commands, server=server, csrf=console.csrf_token)


@router.get("/clusters/{cluster_id}/workloads")
def workload_list(request: Request, cluster_id: str, token: Token = None) -> Response:
    """The cluster's workloads: requests against the rightsizing recommendation, why none, savings."""
    try:
        console = _session(request, token)
    except Unauthorized:
        return _to_sign_in("ended" if token else "")
    platform = _platform(request)
    try:
        with transaction(platform.sessions) as session:
            cluster = clusters.get_cluster(session, console.caller, cluster_id)
            items = workloads.list_workloads(session, console.caller, cluster_id, platform.clock())["items"]
            name = cluster.name
    except ServiceError as exc:
        return _page(request, "error.html", status=exc.status, message=exc.message, csrf=console.csrf_token)
    total = round(sum(w["hourlySavings"] for w in items if w["reason"] is None), 6)
    return _page(
        request, "workloads.html", cluster_id=cluster_id, cluster_name=name, workloads=items, total=total,
        csrf=console.csrf_token,
    )  # fmt: skip
