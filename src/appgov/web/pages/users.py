"""The Users pages, for those who manage users: the list with pending invitations, inviting (the
one-time link shown once), and one user's role, account, revocation rights, sessions and API tokens.
Every change is an ``administration`` service call, then a redirect back with a fixed notice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.accounts.permissions import Permission, Role
from appgov.accounts.rights import rights_of
from appgov.accounts.sessions import session_handle, sessions_of
from appgov.accounts.tokens import tokens_of
from appgov.administration import users
from appgov.administration.sessions import end_sessions_of
from appgov.administration.tokens import revoke_personal_token
from appgov.storage.models import Domain, User
from appgov.web.auth import Viewer, require, runtime_of
from appgov.web.inputs import RowId
from appgov.web.templating import render

router = APIRouter()
ROLES = list(Role)
ALL = "all"  # the form value that stands for every domain
DOMAIN_CHOICE = rf"^({ALL}|[0-9]{{1,18}})$"

# What a redirect back to a user's page says; only these fixed texts, never text from the query string.
NOTICES = {
    "role": "The role was changed: it holds from the user's next request.",
    "disabled": "The account is disabled: its sessions were ended and its API tokens revoked.",
    "enabled": "The account is enabled: the user can sign in again.",
    "granted": "The revocation right was granted.",
    "withdrawn": "The revocation right was withdrawn.",
    "ended": "The sessions were ended: their next request is signed out.",
    "revoked": "The API token was revoked.",
    "unchanged": "Nothing changed.",
}


def _not_found(request: Request, viewer: Viewer) -> Response:
    page = {"title": "Not found", "message": "No such user."}
    return render(request, "integrations/message.html", viewer, 404, nav="users", **page)


def _user_page(
    request: Request, viewer: Viewer, session: Session, user: User, status_code: int = 200, **flash: object
) -> Response:
    now = runtime_of(request).clock.now()
    return render(
        request, "users/detail.html", viewer, status_code, nav="users", user=user, roles=ROLES,
        rights=rights_of(session, user.id), sessions=sessions_of(session, user.id, now),
        handle=session_handle, tokens=tokens_of(session, user.id),
        domains=list(session.scalars(select(Domain).order_by(Domain.name))), **flash,
    )  # fmt: skip


def _back(user_id: int, changed: bool, notice: str) -> Response:
    return RedirectResponse(f"/users/{user_id}?notice={notice if changed else 'unchanged'}", status_code=303)


def _domain_choice(value: str) -> int | None:
    return None if value == ALL else int(value)


@router.get("/users")
def users_page(request: Request, viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)]) -> Response:
    now = runtime_of(request).clock.now()
    with runtime_of(request).sessions() as session:
        summaries = users.user_summaries(session, now)
        invitations = users.pending_invitations(session, now)
        return render(
            request, "users/index.html", viewer, nav="users", summaries=summaries, invitations=invitations
        )


@router.get("/users/invite")
def invite_form(request: Request, viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)]) -> Response:
    return render(request, "users/invite.html", viewer, nav="users", roles=ROLES, email="", role=Role.VIEWER)


@router.post("/users/invite")
def invite(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[Role, Form()],
) -> Response:
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            token, invitation = users.invite(session, email, role, viewer.principal, runtime.clock.now())
            invited, expires_at = invitation.email, invitation.expires_at
    except ValueError as err:  # an address that is no email, or one with an account
        page = {"roles": ROLES, "email": email, "role": role, "flash": str(err), "flash_kind": "error"}
        return render(request, "users/invite.html", viewer, 400, nav="users", **page)
    link = users.invitation_link(runtime.settings.public_url, token)
    response = render(
        request, "users/invited.html", viewer, nav="users", email=invited, link=link, expires_at=expires_at
    )
    response.headers["Cache-Control"] = "no-store"  # the link is shown once: never from a cache
    return response


@router.get("/users/{user_id}")
def user_page(
    request: Request,
    user_id: RowId,
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
    notice: str | None = None,
) -> Response:
    with runtime_of(request).sessions() as session:
        user = session.get(User, user_id)
        if user is None:
            return _not_found(request, viewer)
        kind = "info" if notice == "unchanged" else "success"
        return _user_page(request, viewer, session, user, flash=NOTICES.get(notice or ""), flash_kind=kind)


def _change(
    request: Request,
    viewer: Viewer,
    user_id: RowId,
    notice: str,
    service: Callable[..., object],
    *args: object,
    **kwargs: object,
) -> Response:
    """Call one ``administration`` service on a user, as ``service(session, user, *args, by=..., now=...,
    **kwargs)``, and go back to their page; a refused change is shown there (409). A service that finds
    nothing to change answers False (or None), and the notice says so."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        user = session.get(User, user_id)
        if user is None:
            return _not_found(request, viewer)
        try:  # the services refuse before they change anything
            changed = service(session, user, *args, by=viewer.principal, now=runtime.clock.now(), **kwargs)
        except users.UserAdminError as err:
            return _user_page(request, viewer, session, user, 409, flash=str(err), flash_kind="error")
    return _back(user_id, bool(changed), notice)


@router.post("/users/{user_id}/role")
def change_role(
    request: Request,
    user_id: RowId,
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
    role: Annotated[Role, Form()],
) -> Response:
    return _change(request, viewer, user_id, "role", users.set_role, role)


@router.get("/users/{user_id}/disable")
def confirm_disable(
    request: Request, user_id: RowId, viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)]
) -> Response:
    with runtime_of(request).sessions() as session:
        user = session.get(User, user_id)
        if user is None:
            return _not_found(request, viewer)
        return render(request, "users/disable.html", viewer, nav="users", user=user)


@router.post("/users/{user_id}/disable")
def disable(
    request: Request, user_id: RowId, viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)]
) -> Response:
    return _change(request, viewer, user_id, "disabled", users.disable)


@router.post("/users/{user_id}/enable")
def enable(
    request: Request, user_id: RowId, viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)]
) -> Response:
    return _change(request, viewer, user_id, "enabled", users.enable)


@router.post("/users/{user_id}/rights")
def grant_right(
    request: Request,
    user_id: RowId,
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
    domain: Annotated[str, Form(pattern=DOMAIN_CHOICE)],
) -> Response:
    return _change(request, viewer, user_id, "granted", users.grant_revocation, _domain_choice(domain))


@router.post("/users/{user_id}/rights/withdraw")
def withdraw_right(
    request: Request,
    user_id: RowId,
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
    domain: Annotated[str, Form(pattern=DOMAIN_CHOICE)],
) -> Response:
    return _change(request, viewer, user_id, "withdrawn", users.withdraw_revocation, _domain_choice(domain))


@router.post("/users/{user_id}/sessions/end")
def end_sessions(
    request: Request,
    user_id: RowId,
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
    session: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """End one of the user's sessions (named by its handle) or, without one, all of them."""
    return _change(request, viewer, user_id, "ended", end_sessions_of, handle=session or None)


@router.post("/users/{user_id}/tokens/{token_id}/revoke")
def revoke_token(
    request: Request,
    user_id: RowId,
    token_id: RowId,
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
) -> Response:
    return _change(request, viewer, user_id, "revoked", revoke_personal_token, token_id)
