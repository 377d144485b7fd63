"""The signed-in user's personal API tokens over REST: list them (never the hash), create one (its
plaintext in that answer only), revoke one. Creating needs the console's session: a token never
mints another, so a leaked one cannot outlive its own expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from appgov.accounts.permissions import Permission
from appgov.accounts.tokens import MAX_LIFETIME, status_of, tokens_of
from appgov.administration.tokens import create_personal_token, revoke_personal_token
from appgov.storage.models import PersonalToken
from appgov.web.auth import Viewer, deny, require, runtime_of
from appgov.web.inputs import JsonInt, RequestBody, RowId

router = APIRouter(tags=["tokens"])
TOKENS_NEED_A_SESSION = "a personal API token cannot create tokens: sign in to the console to create one"


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the token's first characters, to recognise it")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: str = Field(description="active, expired or revoked")


class NewTokenOut(TokenOut):
    token: str = Field(description="the token itself: shown in this answer only, send it as Bearer")


class NewToken(RequestBody):
    name: str = Field(min_length=1, max_length=100)
    days: JsonInt = Field(30, ge=1, le=MAX_LIFETIME.days, description="how long it lives")


def token_out(row: PersonalToken, now: datetime) -> TokenOut:
    return TokenOut(
        id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at, expires_at=row.expires_at,
        last_used_at=row.last_used_at, revoked_at=row.revoked_at, status=status_of(row, now),
    )  # fmt: skip


@router.get("/tokens")
def list_tokens(
    request: Request, viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)]
) -> list[TokenOut]:
    """The user's own tokens, the newest first."""
    runtime = runtime_of(request)
    now = runtime.clock.now()
    with runtime.sessions() as session:
        return [token_out(row, now) for row in tokens_of(session, viewer.user.id)]


@router.post("/tokens", status_code=201)
def create_token(
    request: Request, viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)], body: NewToken
) -> NewTokenOut:
    """A new token for the signed-in user, acting with their permissions (never more)."""
    if viewer.session_id is None:
        deny(request, viewer.principal, TOKENS_NEED_A_SESSION, caller="a personal API token")
    runtime = runtime_of(request)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        token, row = create_personal_token(
            session, viewer.user, body.name, timedelta(days=body.days), viewer.principal, now
        )
        return NewTokenOut(**token_out(row, now).model_dump(), token=token)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    request: Request, token_id: RowId, viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)]
) -> Response:
    """Revoke one of the user's own tokens; 404 for another's, an unknown or an already revoked one."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        revoked = revoke_personal_token(session, viewer.user, token_id, viewer.principal, runtime.clock.now())
        if revoked is None:
            raise HTTPException(404, "no such token of yours, or it is already revoked")
    return Response(status_code=204)
