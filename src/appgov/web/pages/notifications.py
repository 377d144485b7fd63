"""The Notifications page: the signed-in user's notifications, newest first with the unread ones
highlighted, each linking to its domain; and "Mark all read"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from appgov.accounts.inbox import inbox, mark_read
from appgov.accounts.permissions import Permission
from appgov.web.auth import Viewer, require, runtime_of
from appgov.web.templating import render

router = APIRouter()


@router.get("/notifications")
def notifications_page(request: Request, viewer: Annotated[Viewer, require(Permission.READ)]) -> Response:
    with runtime_of(request).sessions() as session:
        items = inbox(session, viewer.user.id)
    return render(request, "notifications.html", viewer, items=items, nav="notifications")


@router.post("/notifications/read")
def mark_all_read(request: Request, viewer: Annotated[Viewer, require(Permission.OWN_ACCOUNT)]) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        mark_read(session, viewer.user.id, runtime.clock.now())
    return RedirectResponse("/notifications", status_code=303)
