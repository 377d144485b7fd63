"""Jinja2 templates with autoescaping on (Atlassian-controlled text is untrusted, WS-06), the
filters pages share, and the context every page gets (viewer, CSRF token, unread count)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from appgov.accounts import inbox
from appgov.accounts.permissions import Permission, holds
from appgov.web.auth import Viewer, runtime_of

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def when(value: datetime | None, empty: str = "N/A") -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else empty


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def ago(value: datetime | None, now: datetime) -> str:
    """How long ago, in the largest whole unit: "just now", "3 min ago", "2 h ago", "5 days ago"."""
    if value is None:
        return ""
    seconds = max(0, int((now - value).total_seconds()))
    for unit, size in (("day", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''} ago"
    return "just now"


def safe_url(value: str | None) -> str | None:
    """Only http(s) links are rendered as links; ``javascript:``, ``data:`` and the rest are not."""
    if value and value.strip().lower().startswith(("https://", "http://")):
        return value.strip()
    return None


templates.env.filters.update(when=when, ago=ago, duration=duration, safe_url=safe_url)


def unread_count(request: Request, viewer: Viewer) -> int:
    with runtime_of(request).sessions() as session:
        return inbox.unread_count(session, viewer.user.id)


def render(
    request: Request, name: str, viewer: Viewer | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    context.update(
        now=runtime_of(request).clock.now(),
        viewer=viewer,
        # which controls to show; hiding one is a courtesy, ``require`` on its route is the control
        can=lambda permission: viewer is not None and holds(viewer.principal, Permission(permission)),
        csrf_token=viewer.csrf_token if viewer else context.get("csrf_token", ""),
        # fragments (``_name.html``, what htmx polls) never show the nav's count: spare the query
        unread=unread_count(request, viewer) if viewer and not name.rsplit("/", 1)[-1].startswith("_") else 0,
    )
    return templates.TemplateResponse(request, name, context, status_code=status_code)
