"""The Account page: who the signed-in user is (role and revocation rights, read-only), their console
sessions with End and "End all other sessions", and their personal API tokens with Revoke and a form
to create one, whose plaintext the answer to that form shows once."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from appgov.accounts.permissions import Permission
from appgov.accounts.rights import rights_of
from appgov.accounts.sessions import session_handle, sessions_of
from appgov.accounts.tokens import status_of, tokens_of
from appgov.administration.sessions import end_sessions_of
from appgov.administration.tokens import create_personal_token, revoke_personal_token
from appgov.web.auth import SESSION_COOKIE, Viewer, delete_cookie, require, runtime_of
from appgov.web.inputs import RowId
from appgov.web.templating import render

router = APIRouter()
LIFETIMES = (7, 30, 90, 365)  # the days a token may live, as the form offers them
DEFAULT_LIFETIME = 30

# What a redirect back to the page says; only these fixed texts, never text from the query string.
NOTICES = {
    "token-revoked": ("Token revoked: it no longer works.", "success"),
    "token-gone": ("That token was already revoked, or is not yours.", "info"),
    "session-ended": ("Session ended: it is signed out.", "success"),
    "session-gone": ("That session had already ended.", "info"),
    "others-ended": ("Your other sessions are signed out.", "success"),
    "no-others": ("You have no other sessions.", "info"),
}


def _account_page(
    request: Request, viewer: Viewer, status_code: int = 200, **context: str | None
) -> Response:
    runtime = runtime_of(request)
    idle = timedelta(minutes=runtime.settings.session_idle_minutes)
    with runtime.sessions() as session:
        rights = rights_of(session, viewer.user.id)
        sessions = sessions_of(session, viewer.user.id, runtime.clock.now(), idle)
        tokens = tokens_of(session, viewer.user.id)
    return render(
        request, "account.html", viewer, status_code, rights=rights, sessions=sessions, tokens=tokens,
        status_of=status_of, handle=session_handle, lifetimes=LIFETIMES, default_lifetime=DEFAULT_LIFETIME,
        nav="account", **context,
    )  # fmt: skip


def _back(notice: str) -> Response:
    return RedirectResponse(f"/account?notice={notice}", status_code=303)


@router.get("/account")
def account_page(
    request: Request, viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)], notice: str | None = None
) -> Response:
    flash, kind = NOTICES.get(notice or "", (None, None))
    return _account_page(request, viewer, flash=flash, flash_kind=kind)


@router.post("/account/tokens")
def create_token(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)],
    name: Annotated[str, Form(max_length=100)] = "",
    days: Annotated[int, Form()] = DEFAULT_LIFETIME,
) -> Response:
    """Not a redirect: this answer is the one place the token is ever shown."""
    if days not in LIFETIMES:
        return _account_page(
            request, viewer, 400, flash="Pick one of the offered lifetimes.", flash_kind="error"
        )
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        token, row = create_personal_token(
            session, viewer.user, name, timedelta(days=days), viewer.principal, runtime.clock.now()
        )
    return render(
        request, "account_token.html", viewer, status_code=201, token=token, row=row,
        public_url=runtime.settings.public_url, nav="account",
    )  # fmt: skip


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: RowId, viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)]
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        revoked = revoke_personal_token(session, viewer.user, token_id, viewer.principal, runtime.clock.now())
    return _back("token-revoked" if revoked else "token-gone")


@router.post("/account/sessions/others/end")
def end_other_sessions(
    request: Request, viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)]
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        ended = end_sessions_of(
            session, viewer.user, viewer.principal, runtime.clock.now(), keep=viewer.session_id
        )
    return _back("others-ended" if ended else "no-others")


@router.post("/account/sessions/{session_id}/end")
def end_session(
    request: Request,
    session_id: Annotated[str, Path(max_length=16, description="the session's handle")],
    viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)],
) -> Response:
    """Ending the session this request came with signs the user out."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        ended = end_sessions_of(session, viewer.user, viewer.principal, runtime.clock.now(), session_id)
    if ended and viewer.session_id and session_id == session_handle(viewer.session_id):
        response = RedirectResponse("/login", status_code=303)
        delete_cookie(request, response, SESSION_COOKIE)
        return response
    return _back("session-ended" if ended else "session-gone")
