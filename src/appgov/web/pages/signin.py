"""Sign-in and sign-out, and the pieces accepting an invitation shares with sign-in: the
pre-session CSRF cookie and opening a session."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from appgov.accounts import throttle
from appgov.accounts.devices import DEVICE_LIFETIME, device_token, is_known_device
from appgov.accounts.principal import Principal, Via
from appgov.accounts.sessions import close_session, open_session
from appgov.accounts.users import authenticate
from appgov.audit.trail import AuditOutcome, record_audit
from appgov.outcomes import Code, Outcome
from appgov.storage.models import User
from appgov.web.auth import (
    DEVICE_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Viewer,
    client_address,
    delete_cookie,
    optional_viewer,
    read_cookie,
    request_id_of,
    runtime_of,
    safe_next,
    set_cookie,
)
from appgov.web.templating import render

router = APIRouter()
GENERIC_FAILURE = "Wrong email or password."


@router.get("/login")
def login_page(
    request: Request,
    viewer: Annotated[Viewer | None, Depends(optional_viewer)],
    next: str | None = None,
) -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, next, error=None)


def _login_form(request: Request, next: str | None, error: str | None, status_code: int = 200) -> Response:
    """The sign-in page: the password form, "Sign in with SSO" when it is configured, or that alone
    when SSO is required."""
    oidc = runtime_of(request).settings.oidc
    return pre_session_form(
        request, "login.html", status_code, next=safe_next(next), error=error, sso=oidc.configured,
        sso_required=oidc.required,
    )  # fmt: skip


def refused_form(request: Request, next: str | None, refusal: Outcome, status_code: int) -> Response:
    """The sign-in page saying why a sign-in was refused, in the reason code's words."""
    text = refusal.text
    return _login_form(request, next, f"{text[:1].upper()}{text[1:]}.", status_code)


def pre_session_form(request: Request, template: str, status_code: int = 200, **page: object) -> Response:
    """A form posted before any session exists (sign-in, accepting an invitation): its CSRF token
    rides in a short-lived strict cookie, which ``csrf_guard`` compares with the form's."""
    token = secrets.token_urlsafe(32)
    response = render(request, template, None, status_code=status_code, csrf_token=token, **page)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600, samesite="strict")
    return response


def start_session(request: Request, session: Session, user: User, now: datetime) -> str:
    """A new console session for ``user`` from this request's client; the cookie's token."""
    max_age = timedelta(hours=runtime_of(request).settings.session_max_hours)
    address, user_agent = client_address(request), request.headers.get("user-agent", "")
    token, _ = open_session(session, user, now, max_age, address, user_agent)
    return token


def signed_in(request: Request, token: str, email: str, target: str) -> Response:
    """Go to ``target`` with the new session's cookie (the pre-session CSRF cookie is done with), and
    this browser's known-device cookie for the account ``email`` (WS-05)."""
    runtime = runtime_of(request)
    response = RedirectResponse(safe_next(target), status_code=303)
    max_age = runtime.settings.session_max_hours * 3600
    # lax: the OAuth callback is a top-level navigation from Atlassian
    set_cookie(request, response, SESSION_COOKIE, token, max_age=max_age, samesite="lax")
    device = device_token(runtime.secrets, email, runtime.clock.now())
    set_cookie(request, response, DEVICE_COOKIE, device, int(DEVICE_LIFETIME.total_seconds()), "strict")
    delete_cookie(request, response, LOGIN_CSRF_COOKIE)
    return response


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/integrations",
) -> Response:
    runtime = runtime_of(request)
    now = runtime.clock.now()
    address = client_address(request)
    # who tried: the email as typed (cleaned by the trail), never the password
    attempt = Principal(
        email.strip().lower(), Via.CONSOLE, address=address, request_id=request_id_of(request)
    )
    with runtime.sessions.begin() as session:
        if runtime.settings.oidc.required:  # the break-glass is the CLI, or unsetting APPGOV_SSO_REQUIRED
            required = Outcome(Code.SSO_REQUIRED)
            record_audit(
                session, attempt, "signin.failed", attempt.name, now, AuditOutcome.FAILURE,
                reason=str(required.code),
            )  # fmt: skip
            return refused_form(request, next, required, 403)
        known = is_known_device(runtime.secrets, read_cookie(request, DEVICE_COOKIE), email, now)
        wait = throttle.blocked_for(session, email, address, now, known_device=known)
        if wait > 0:
            record_audit(session, attempt, "signin.throttled", attempt.name, now, AuditOutcome.DENIED)
            response = _login_form(request, next, f"Too many attempts: try again in {int(wait) + 1} s.", 429)
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        user = authenticate(session, email, password, now)
        if user is None:
            throttle.record_failure(session, email, address, now)
            record_audit(session, attempt, "signin.failed", attempt.name, now, AuditOutcome.FAILURE)
            return _login_form(request, next, GENERIC_FAILURE, 401)
        throttle.record_success(session, email, address)
        token = start_session(request, session, user, now)
        who = Principal.of_user(user, Via.CONSOLE, address, request_id_of(request))
        record_audit(session, who, "signin.succeeded", user.email, now)
    return signed_in(request, token, who.name, next)


@router.post("/logout")
def logout(request: Request, viewer: Annotated[Viewer | None, Depends(optional_viewer)]) -> Response:
    runtime = runtime_of(request)
    token = read_cookie(request, SESSION_COOKIE)
    if token:
        with runtime.sessions.begin() as session:
            close_session(session, token)
            if viewer is not None:
                record_audit(session, viewer.principal, "signout", viewer.user.email, runtime.clock.now())
    response = RedirectResponse("/login", status_code=303)
    delete_cookie(request, response, SESSION_COOKIE)
    return response
