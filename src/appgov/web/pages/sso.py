"""Sign-in through the identity provider (OpenID Connect): ``/login/sso`` sends the browser to the
provider, ``/login/sso/callback`` takes its answer and opens the same kind of session as a password
sign-in. Every attempt is audited (``signin.succeeded`` or ``signin.failed`` with its reason code, via
``sso``); a refusal is the sign-in page with the reason's words, never a token, answered 400."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from appgov.accounts.oidc import STATE_TTL, Identity, SsoRefused, finish_sign_in, start_sign_in
from appgov.accounts.principal import Principal, Via
from appgov.administration.sso import sso_user
from appgov.audit.trail import AuditOutcome, record_audit
from appgov.web.auth import (
    Viewer,
    client_address,
    optional_viewer,
    request_id_of,
    runtime_of,
    safe_next,
    secure_cookies,
)
from appgov.web.pages.signin import refused_form, signed_in, start_session

router = APIRouter()
# the state, bound to this browser: Lax, not Strict, since the provider's redirect back is a cross-site
# top-level navigation, on which a browser does not send a Strict cookie
STATE_COOKIE = "appgov_sso_state"
CALLBACK = "/login/sso/callback"


def _refused(request: Request, refused: SsoRefused, identity: Identity | None) -> Response:
    runtime = runtime_of(request)
    name = (identity.email or identity.subject) if identity else "sso"
    attempt = Principal(name, Via.SSO, address=client_address(request), request_id=request_id_of(request))
    outcome = refused.outcome
    with runtime.sessions.begin() as session:
        record_audit(
            session, attempt, "signin.failed", name, runtime.clock.now(), AuditOutcome.FAILURE,
            reason=str(outcome.code), **outcome.params,
        )  # fmt: skip
    response = refused_form(request, identity.next_path if identity else None, outcome, 400)
    response.delete_cookie(STATE_COOKIE, path=CALLBACK)
    return response


@router.get("/login/sso")
async def sso_start(
    request: Request,
    viewer: Annotated[Viewer | None, Depends(optional_viewer)],
    next: str | None = None,
) -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    runtime = runtime_of(request)
    try:
        started = await start_sign_in(runtime, safe_next(next))
    except SsoRefused as refused:
        return _refused(request, refused, None)
    response = RedirectResponse(started.url, status_code=303)
    response.set_cookie(
        STATE_COOKIE, started.state, max_age=int(STATE_TTL.total_seconds()), path=CALLBACK,
        httponly=True, samesite="lax", secure=secure_cookies(runtime),
    )  # fmt: skip
    return response


@router.get(CALLBACK)
async def sso_callback(
    request: Request,
    viewer: Annotated[Viewer | None, Depends(optional_viewer)],
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """The provider's answer: the state is checked against this browser's cookie before anything else.
    A signed-in browser cannot have started a sign-in (``/login/sso`` sends it on), so it goes on too."""
    if viewer is not None:
        return RedirectResponse(safe_next(None), status_code=303)
    runtime = runtime_of(request)
    identity = None
    try:
        identity = await finish_sign_in(runtime, request.cookies.get(STATE_COOKIE), state, code, error)
        now = runtime.clock.now()
        address, request_id = client_address(request), request_id_of(request)
        with runtime.sessions.begin() as session:
            user = sso_user(session, identity, runtime.settings.oidc, now, address, request_id)
            token, email = start_session(request, session, user, now), user.email
            who = Principal.of_user(user, Via.SSO, address, request_id)
            record_audit(session, who, "signin.succeeded", user.email, now, issuer=identity.issuer)
    except SsoRefused as refused:
        return _refused(request, refused, identity)
    response = signed_in(request, token, email, identity.next_path)
    response.delete_cookie(STATE_COOKIE, path=CALLBACK)
    return response
