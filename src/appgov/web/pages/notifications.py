"""The Notifications page: the signed-in user's notifications, newest first with the unread ones
highlighted, each linking to its domain; and "Mark all read"."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from appgov.accounts.inbox import inbox, mark_read
from appgov.web.auth import ViewerDep, runtime_of
from appgov.web.templating import render

router = APIRouter()


@router.get("/notifications")
def notifications_page(request: Request, viewer: ViewerDep) -> Response:
    with runtime_of(request).sessions() as session:
        items = inbox(session, viewer.user.id)
    return render(request, "notifications.html", viewer, items=items, nav="notifications")


@router.post("/notifications/read")
def mark_all_read(request: Request, viewer: ViewerDep) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        mark_read(session, viewer.user.id, runtime.clock.now())
    return RedirectResponse("/notifications", status_code=303)
