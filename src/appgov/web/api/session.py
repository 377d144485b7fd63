"""Who is signed in, what they may do, and the CSRF token cookie-session clients send back in
``X-CSRF-Token`` (an API token's caller needs none); the user's own console sessions, and ending one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from appgov.accounts.permissions import ROLE_PERMISSIONS, Permission, Role
from appgov.accounts.sessions import session_handle, sessions_of
from appgov.administration.sessions import end_sessions_of
from appgov.web.auth import Viewer, require, runtime_of

router = APIRouter(tags=["session"])


class SessionOut(BaseModel):
    email: str
    name: str
    role: Role
    permissions: list[Permission]
    csrf_token: str | None


@router.get("/session")
def current_session(viewer: Annotated[Viewer, require(Permission.READ)]) -> SessionOut:
    user = viewer.user
    role = Role(user.role)
    return SessionOut(
        email=user.email, name=user.name, role=role, permissions=sorted(ROLE_PERMISSIONS[role]),
        csrf_token=viewer.csrf_token,
    )  # fmt: skip


class BrowserSessionOut(BaseModel):
    id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    address: str | None = Field(description="where it signed in from")
    user_agent: str | None
    current: bool = Field(description="the session making this request")


@router.get("/sessions")
def list_sessions(
    request: Request, viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)]
) -> list[BrowserSessionOut]:
    """The user's own live console sessions, the most recently used first."""
    runtime = runtime_of(request)
    idle = timedelta(minutes=runtime.settings.session_idle_minutes)
    with runtime.sessions() as session:
        rows = sessions_of(session, viewer.user.id, runtime.clock.now(), idle)
    return [
        BrowserSessionOut(
            id=session_handle(row.id),
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            address=row.address,
            user_agent=row.user_agent,
            current=row.id == viewer.session_id,
        )
        for row in rows
    ]


@router.delete("/sessions/{session_id}", status_code=204)
def end_session(
    request: Request,
    session_id: Annotated[str, Path(max_length=16, description="the session's handle")],
    viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)],
) -> Response:
    """End one of the user's own sessions (its next request is signed out); 404 for another's."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        if not end_sessions_of(session, viewer.user, viewer.principal, runtime.clock.now(), session_id):
            raise HTTPException(404, "no such session of yours")
    return Response(status_code=204)
