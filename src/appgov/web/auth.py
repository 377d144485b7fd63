"""Who is asking: the session cookie, the signed-in viewer, the one permission check, CSRF checks and
the redirect target rules. ``create_app`` puts ``csrf_guard`` on every route, so every state change
needs the token (WS-03); every route but sign-in's declares its permission with ``require``."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request

from appgov.accounts.permissions import Permission, holds
from appgov.accounts.principal import Principal, Via
from appgov.accounts.sessions import find_session
from appgov.runtime import Runtime
from appgov.storage.models import User, WebSession

SESSION_COOKIE = "appgov_session"
LOGIN_CSRF_COOKIE = "appgov_login_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Viewer:
    user: User
    session: WebSession
    token: str
    via: Via  # the console's pages, or the REST API

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    @property
    def principal(self) -> Principal:
        """Who the services are told acts."""
        return Principal.of_user(self.user, self.via)


class SignInRequired(Exception):
    """Raised for a request without a live session; pages redirect to sign-in, the API answers 401."""


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def optional_viewer(request: Request) -> Viewer | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    runtime = runtime_of(request)
    idle = timedelta(minutes=runtime.settings.session_idle_minutes)
    with runtime.sessions.begin() as session:
        row = find_session(session, token, runtime.clock.now(), idle)
        if row is None:
            return None
        user = session.get_one(User, row.user_id)
    return Viewer(user, row, token, Via.API if request.url.path.startswith("/api/") else Via.CONSOLE)


def require(permission: Permission, *, signed_out: bool = False) -> Any:
    """The one permission check: a route's ``Depends`` that gives the signed-in viewer holding
    ``permission`` (403 otherwise). Signed out, the request goes to sign-in first; with
    ``signed_out`` the route gets None and answers itself (the OAuth callback must not carry its
    code through sign-in)."""

    def permitted(viewer: Annotated[Viewer | None, Depends(optional_viewer)]) -> Viewer | None:
        if viewer is None:
            if signed_out:
                return None
            raise SignInRequired
        if not holds(viewer.principal, permission):
            raise HTTPException(403, f"this needs the {permission} permission")
        return viewer

    permitted.permission = permission  # type: ignore[attr-defined]  # what tests/test_permissions reads
    return Depends(permitted)


def same_origin(request: Request) -> bool:
    """Reject what a browser marks as cross-site (Fetch metadata, then Origin)."""
    site = request.headers.get("sec-fetch-site")
    if site not in (None, "same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin == "null":
        # under Referrer-Policy: no-referrer a browser's own same-origin form posts say Origin: null;
        # its Fetch metadata, which no page can set, still tells same-origin from cross-site
        return site == "same-origin"
    if origin is None:
        return True
    public = runtime_of(request).settings.public_url
    allowed = {_origin_of(public), f"{request.url.scheme}://{request.url.netloc}"}
    return origin.rstrip("/") in allowed


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def submitted_token(request: Request) -> str:
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get("csrf_token")
        return value if isinstance(value, str) else ""
    return ""


async def csrf_guard(request: Request, viewer: Annotated[Viewer | None, Depends(optional_viewer)]) -> None:
    """For unsafe methods: same origin, and the session's CSRF token in the form or X-CSRF-Token."""
    if request.method not in UNSAFE_METHODS:
        return
    if not same_origin(request):
        raise HTTPException(403, "cross-site request refused")
    expected = viewer.csrf_token if viewer else request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = await submitted_token(request)
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def safe_next(target: str | None, default: str = "/integrations") -> str:
    """Only same-origin relative paths (OA-03): no scheme, no host, no `//` or `/\\` tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    return target


def secure_cookies(runtime: Runtime) -> bool:
    """Secure cookies, except for plain http on loopback (a local demo)."""
    parts = urlsplit(runtime.settings.public_url)
    return not (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"))
