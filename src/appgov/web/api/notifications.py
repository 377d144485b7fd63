"""The signed-in user's notifications over REST: the list with the unread count, and marking read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from appgov.accounts.inbox import inbox, mark_read, unread_count
from appgov.accounts.permissions import Permission
from appgov.web.auth import Viewer, require, runtime_of
from appgov.web.inputs import BodyRowId, RequestBody

router = APIRouter(tags=["notifications"])


class NotificationOut(BaseModel):
    id: int
    kind: str = Field(description="domain_ready, sync_error, reconsent_needed or api_token_expiring")
    message: str
    created_at: datetime
    read: bool
    domain_id: int | None = Field(description="null once the domain is deleted")
    domain_name: str | None


class InboxOut(BaseModel):
    unread: int
    items: list[NotificationOut] = Field(description="newest first")


class MarkRead(RequestBody):
    ids: list[BodyRowId] | None = Field(
        None, description="these notifications only; all unread ones when absent"
    )


class MarkedOut(BaseModel):
    marked: int


@router.get("/notifications")
def list_notifications(request: Request, viewer: Annotated[Viewer, require(Permission.READ)]) -> InboxOut:
    with runtime_of(request).sessions() as session:
        items = inbox(session, viewer.user.id)
        unread = unread_count(session, viewer.user.id)
    return InboxOut(
        unread=unread,
        items=[
            NotificationOut(
                id=item.id,
                kind=item.kind,
                message=item.message,
                created_at=item.created_at,
                read=item.read_at is not None,
                domain_id=item.domain_id if item.domain_name else None,
                domain_name=item.domain_name,
            )
            for item in items
        ],
    )


@router.post("/notifications/read")
def read_notifications(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)],
    body: Annotated[MarkRead | None, Body()] = None,
) -> MarkedOut:
    """Mark all of the user's unread notifications read, or only the ones listed."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        marked = mark_read(session, viewer.user.id, runtime.clock.now(), body.ids if body else None)
    return MarkedOut(marked=marked)
