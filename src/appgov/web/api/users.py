"""Users over REST (``/api/v1``), for those who manage users: list and read users with their
revocation rights, sessions and API tokens' metadata; change a role or disable; invite (the link comes
back once); grant and withdraw the revocation right; end sessions; revoke a token. No answer carries
a password hash, a session key or a token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field, StrictBool
from sqlalchemy.orm import Session

from appgov.accounts.permissions import Permission, Role
from appgov.accounts.rights import rights_of
from appgov.accounts.sessions import session_handle, sessions_of
from appgov.accounts.tokens import tokens_of
from appgov.administration import users
from appgov.administration.sessions import end_sessions_of
from appgov.administration.tokens import revoke_personal_token
from appgov.storage.models import User, WebSession
from appgov.web.api.tokens import TokenOut, token_out
from appgov.web.auth import Viewer, require, runtime_of
from appgov.web.inputs import BodyRowId, RequestBody, RowId
from appgov.web.openapi import CONFLICT

router = APIRouter(tags=["users"], responses={409: CONFLICT})


class RightOut(BaseModel):
    domain_id: int | None = Field(description="null: every domain, present and future")
    domain_name: str | None
    granted_by: str
    granted_at: datetime


class SessionOut(BaseModel):
    id: str = Field(description="the session's handle, to end it (never its cookie or key)")
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    address: str | None
    user_agent: str | None


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    disabled_at: datetime | None = Field(description="null while the account is enabled")
    created_at: datetime
    last_login_at: datetime | None
    revocation_rights: list[RightOut]
    live_sessions: int


class UserDetailOut(UserOut):
    sessions: list[SessionOut] = Field(description="live sessions, the most recently used first")
    tokens: list[TokenOut] = Field(description="personal API tokens, the newest first")


class UserPatch(RequestBody):
    role: Role | None = None
    disabled: StrictBool | None = Field(None, description="true ends every session and revokes every token")


class InvitationIn(RequestBody):
    # what accounts.users.normalize_email admits: an @, no space once the ends are trimmed
    email: str = Field(min_length=3, max_length=320, pattern=r"^\s*\S*@\S*\s*$")
    role: Role


class InvitationOut(BaseModel):
    email: str
    role: Role
    expires_at: datetime
    link: str = Field(description="the one-time link: shown only in this answer")


class RightIn(RequestBody):
    domain_id: BodyRowId | None = Field(description="null: every domain")


class ChangedOut(BaseModel):
    changed: bool = Field(description="false when it already was so")


class EndedOut(BaseModel):
    ended: int = Field(description="how many sessions ended")


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(404, "no such user")
    return user


def _refused(err: users.UserAdminError) -> HTTPException:
    return HTTPException(404 if isinstance(err, users.NoSuchDomain) else 409, str(err))


def _user_out(session: Session, user: User, live: int) -> UserOut:
    return UserOut(
        id=user.id, email=user.email, name=user.name, role=Role(user.role), disabled_at=user.disabled_at,
        created_at=user.created_at, last_login_at=user.last_login_at, live_sessions=live,
        revocation_rights=[RightOut(**vars(r)) for r in rights_of(session, user.id)],
    )  # fmt: skip


def _detail(session: Session, user: User, now: datetime) -> UserDetailOut:
    live = sessions_of(session, user.id, now)
    return UserDetailOut(
        **_user_out(session, user, len(live)).model_dump(),
        sessions=[_session_out(s) for s in live],
        tokens=[token_out(t, now) for t in tokens_of(session, user.id)],
    )


def _session_out(row: WebSession) -> SessionOut:
    return SessionOut(
        id=session_handle(row.id), created_at=row.created_at, last_seen_at=row.last_seen_at,
        expires_at=row.expires_at, address=row.address, user_agent=row.user_agent,
    )  # fmt: skip


@router.get("/users")
def list_users(request: Request, _: Annotated[Viewer, require(Permission.USERS_MANAGE)]) -> list[UserOut]:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        summaries = users.user_summaries(session, runtime.clock.now())
        return [_user_out(session, s.user, s.live_sessions) for s in summaries]


@router.get("/users/{user_id}")
def get_user(
    request: Request, user_id: RowId, _: Annotated[Viewer, require(Permission.USERS_MANAGE)]
) -> UserDetailOut:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        return _detail(session, _user(session, user_id), runtime.clock.now())


@router.patch("/users/{user_id}")
def change_user(
    request: Request,
    user_id: RowId,
    body: UserPatch,
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
) -> UserDetailOut:
    """Change the role and/or disable or enable the account, all or nothing."""
    runtime = runtime_of(request)
    now, by = runtime.clock.now(), viewer.principal
    with runtime.sessions.begin() as session:
        user = _user(session, user_id)
        try:
            if body.role is not None:
                users.set_role(session, user, body.role, by, now)
            if body.disabled is not None:
                (users.disable if body.disabled else users.enable)(session, user, by, now)
        except users.UserAdminError as err:  # raised inside the transaction: nothing is kept
            raise _refused(err) from None
        return _detail(session, user, now)


@router.post("/invitations", status_code=201)
def invite(
    request: Request, body: InvitationIn, viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)]
) -> InvitationOut:
    runtime = runtime_of(request)
    try:
        with runtime.sessions.begin() as session:
            now = runtime.clock.now()
            token, invitation = users.invite(session, body.email, body.role, viewer.principal, now)
            email, expires_at = invitation.email, invitation.expires_at
            assert email is not None  # only the setup link's invitation has none
    except users.UserAdminError as err:
        raise _refused(err) from None
    except ValueError as err:  # not an email address
        raise HTTPException(422, str(err)) from None
    link = users.invitation_link(runtime.settings.public_url, token)
    return InvitationOut(email=email, role=body.role, expires_at=expires_at, link=link)


@router.post("/users/{user_id}/revocation-rights")
def grant_right(
    request: Request,
    user_id: RowId,
    body: RightIn,
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
) -> ChangedOut:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        user = _user(session, user_id)
        try:
            now = runtime.clock.now()
            granted = users.grant_revocation(session, user, body.domain_id, viewer.principal, now)
        except users.UserAdminError as err:
            raise _refused(err) from None
    return ChangedOut(changed=granted)


@router.delete("/users/{user_id}/revocation-rights/{domain}")
def withdraw_right(
    request: Request,
    user_id: RowId,
    domain: Annotated[RowId | Literal["all"], Path(description="a domain id, or all")],
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
) -> ChangedOut:
    """Withdraw the right on one domain, or (``all``) the all-domains right."""
    runtime = runtime_of(request)
    domain_id = None if domain == "all" else domain
    with runtime.sessions.begin() as session:
        user = _user(session, user_id)
        try:
            now = runtime.clock.now()
            withdrawn = users.withdraw_revocation(session, user, domain_id, viewer.principal, now)
        except users.UserAdminError as err:
            raise _refused(err) from None
    return ChangedOut(changed=withdrawn)


@router.get("/users/{user_id}/sessions")
def list_sessions(
    request: Request, user_id: RowId, _: Annotated[Viewer, require(Permission.USERS_MANAGE)]
) -> list[SessionOut]:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        user = _user(session, user_id)
        return [_session_out(s) for s in sessions_of(session, user.id, runtime.clock.now())]


@router.delete("/users/{user_id}/sessions")
def end_all_sessions(
    request: Request, user_id: RowId, viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)]
) -> EndedOut:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        ended = end_sessions_of(session, _user(session, user_id), viewer.principal, runtime.clock.now())
    return EndedOut(ended=ended)


@router.delete("/users/{user_id}/sessions/{session_id}")
def end_one_session(
    request: Request,
    user_id: RowId,
    session_id: Annotated[str, Path(max_length=16, description="the session's handle")],
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
) -> EndedOut:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        user = _user(session, user_id)
        ended = end_sessions_of(session, user, viewer.principal, runtime.clock.now(), session_id)
    if not ended:
        raise HTTPException(404, "no such live session")
    return EndedOut(ended=ended)


@router.delete("/users/{user_id}/tokens/{token_id}")
def revoke_token(
    request: Request,
    user_id: RowId,
    token_id: RowId,
    viewer: Annotated[Viewer, require(Permission.USERS_MANAGE)],
) -> TokenOut:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        user = _user(session, user_id)
        row = revoke_personal_token(session, user, token_id, viewer.principal, runtime.clock.now())
        if row is None:
            raise HTTPException(404, "no such token, or it is already revoked")
        return token_out(row, runtime.clock.now())
