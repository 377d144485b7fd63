"""Who is asking: the session cookie, the signed-in viewer, the one permission check, CSRF checks and
the redirect target rules. ``create_app`` puts ``csrf_guard`` on every route, so every state change
needs the token (WS-03); every route but the public ones (sign-in, sign-out, accepting an
invitation) declares its permission with ``require`` (AZ-01)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal, NoReturn
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, Response

from appgov.accounts.permissions import DOMAIN_SCOPED, Permission, holds
from appgov.accounts.principal import Principal, Via
from appgov.accounts.rights import may_revoke
from appgov.accounts.sessions import find_session
from appgov.accounts.tokens import find_token
from appgov.audit.trail import AuditOutcome, record_audit
from appgov.runtime import Runtime
from appgov.storage.models import User
from appgov.web.inputs import row_id

# the cookies' names as the loopback demo's plain http has them: ``cookie_name`` gives the real one
SESSION_COOKIE = "appgov_session"
LOGIN_CSRF_COOKIE = "appgov_login_csrf"
DEVICE_COOKIE = "appgov_device"  # the known-device token (accounts.devices)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of this request: through a browser's session cookie, or through a personal
    API token in ``Authorization: Bearer`` (REST API only)."""

    user: User
    via: Via  # the console's pages, or the REST API
    address: str
    request_id: str | None
    session_id: str | None = None  # the cookie session's id (the token's hash); None with an API token
    csrf_token: str | None = None  # None with an API token: no cookie rides along, so no forgery

    @property
    def principal(self) -> Principal:
        """Who the services are told acts."""
        return Principal.of_user(self.user, self.via, self.address, self.request_id)


class SignInRequired(Exception):
    """Raised for a request without a live session; pages redirect to sign-in, the API answers 401."""


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def client_address(request: Request) -> str:
    # the socket's peer, or what a trusted proxy's X-Forwarded-For says (APPGOV_TRUSTED_PROXIES: web.server)
    return request.client.host if request.client else "unknown"


def request_id_of(request: Request) -> str | None:
    request_id: str | None = getattr(request.state, "request_id", None)  # set by web.headers
    return request_id


def browser_session(viewer: Viewer) -> str:
    """The viewer's cookie session, which a consent in flight is bound to; an API token has none."""
    if viewer.session_id is None:
        raise HTTPException(400, "a consent needs the console's session: sign in with a browser")
    return viewer.session_id


def optional_viewer(request: Request) -> Viewer | None:
    """The request's enabled user, read afresh from the database on every request, so a changed role,
    a disabled account or an ended session holds from the next request (AZ-05)."""
    runtime = runtime_of(request)
    now = runtime.clock.now()
    is_api = request.url.path.startswith("/api/")
    address, request_id = client_address(request), request_id_of(request)
    authorization = request.headers.get("authorization")
    with runtime.sessions.begin() as session:
        if authorization is not None and is_api:
            scheme, _, credential = authorization.partition(" ")
            found = find_token(session, credential.strip(), now) if scheme.lower() == "bearer" else None
            return Viewer(found[1], Via.API, address, request_id) if found else None
        token = read_cookie(request, SESSION_COOKIE)
        if not token:
            return None
        idle = timedelta(minutes=runtime.settings.session_idle_minutes)
        row = find_session(session, token, now, idle)
        if row is None:
            return None
        user = session.get_one(User, row.user_id)
        if user.disabled_at is not None:
            return None
        via = Via.API if is_api else Via.CONSOLE
        return Viewer(user, via, address, request_id, session_id=row.id, csrf_token=row.csrf_token)


def require(permission: Permission, *, domain_param: str | None = None, signed_out: bool = False) -> Any:
    """The one permission check: a route's ``Depends`` that gives the signed-in viewer holding
    ``permission`` (403 otherwise, recorded in the audit trail). A domain-scoped permission (the
    revocation right) is checked for the domain named by the path parameter ``domain_param``. Signed
    out, the request goes to sign-in first; with ``signed_out`` the route gets None and answers itself
    (the OAuth callback must not carry its code through sign-in)."""
    if (permission in DOMAIN_SCOPED) != (domain_param is not None):
        raise TypeError(
            f"{permission} is checked {'per domain' if permission in DOMAIN_SCOPED else 'globally'}"
        )

    def permitted(
        request: Request, viewer: Annotated[Viewer | None, Depends(optional_viewer)]
    ) -> Viewer | None:
        if viewer is None:
            if signed_out:
                return None
            raise SignInRequired
        if not _allowed(request, viewer.principal, permission, domain_param):
            needs = f"this needs the {permission} permission"
            deny(request, viewer.principal, needs, permission=str(permission))
        return viewer

    permitted.permission = permission  # type: ignore[attr-defined]  # what tests/test_permissions reads
    return Depends(permitted)


def _allowed(
    request: Request, principal: Principal, permission: Permission, domain_param: str | None
) -> bool:
    if domain_param is None:
        return holds(principal, permission)
    domain_id = row_id(request.path_params.get(domain_param))
    if domain_id is None:
        return False  # not an id any domain has: nothing to revoke there
    with runtime_of(request).sessions() as session:
        return may_revoke(session, principal, domain_id)


def deny(request: Request, principal: Principal, message: str, **detail: str) -> NoReturn:
    """Answer 403 with ``message``, recorded in the audit trail as ``access.denied``."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        record_audit(
            session, principal, "access.denied", f"{request.method} {request.url.path}", runtime.clock.now(),
            AuditOutcome.DENIED, **detail,
        )  # fmt: skip
    raise HTTPException(403, message)


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
    """For unsafe methods: same origin, and the session's CSRF token in the form or X-CSRF-Token. A
    caller with an API token is exempt: a browser never adds an ``Authorization`` header by itself."""
    if request.method not in UNSAFE_METHODS or (viewer is not None and viewer.session_id is None):
        return
    if not same_origin(request):
        raise HTTPException(403, "cross-site request refused")
    expected = viewer.csrf_token if viewer else read_cookie(request, LOGIN_CSRF_COOKIE)
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


def cookie_name(runtime: Runtime, name: str) -> str:
    """The one place a cookie's name is decided, for reading and for writing (WS-01). Over https the
    ``__Host-`` prefix makes browsers insist on Secure, Path=/ and no Domain, so no sibling host can
    plant or shadow it; plain http on loopback cannot have it (browsers refuse it without Secure)."""
    return f"__Host-{name}" if secure_cookies(runtime) else name


def read_cookie(request: Request, name: str) -> str:
    return request.cookies.get(cookie_name(runtime_of(request), name), "")


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    max_age: int,
    samesite: Literal["lax", "strict"],
) -> None:
    """Set one of the console's cookies: HttpOnly, Path=/, no Domain, Secure except on loopback http."""
    runtime = runtime_of(request)
    response.set_cookie(
        cookie_name(runtime, name), value, max_age=max_age, path="/", httponly=True, samesite=samesite,
        secure=secure_cookies(runtime),
    )  # fmt: skip


def delete_cookie(request: Request, response: Response, name: str) -> None:
    runtime = runtime_of(request)
    response.delete_cookie(
        cookie_name(runtime, name), path="/", secure=secure_cookies(runtime), httponly=True
    )
