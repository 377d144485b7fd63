"""The Domain page: one connected site's status, counts per data set, unavailable data sets with
their reasons, recent runs and app change log, who may revoke apps there, with Sync now and Cancel.
While a job is queued or running, the activity fragment polls itself (htmx) until the domain is idle
again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from appgov.accounts.permissions import Permission
from appgov.accounts.rights import holders
from appgov.integrations.activity import domain_activity, request_cancel, request_sync
from appgov.outcomes import dataset_label
from appgov.web.auth import Viewer, require, runtime_of
from appgov.web.inputs import RowId
from appgov.web.templating import render

router = APIRouter()
HTMX_STOP_POLLING = 286  # htmx stops an `every` trigger on this status

# What a redirect back to the page says; only these fixed texts, never text from the query string.
NOTICES = {
    "queued": ("Sync queued: it starts in a moment.", "success"),
    "busy": ("A sync is already queued or running for this domain.", "info"),
    "cancelled": (
        "Cancelled: queued work is dropped; a running sync stops at its next checkpoint.",
        "success",
    ),
    "idle": ("Nothing to cancel: no sync is queued or running.", "info"),
}


def _not_found(request: Request, viewer: Viewer) -> Response:
    return render(request, "domains/not_found.html", viewer, status_code=404, nav="integrations")


@router.get("/domains/{domain_id}")
def domain_page(
    request: Request,
    domain_id: RowId,
    viewer: Annotated[Viewer, require(Permission.READ)],
    notice: str | None = None,
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        activity = domain_activity(session, domain_id, runtime.settings, runtime.clock.now())
        revokers = holders(session, domain_id)
    if activity is None:
        return _not_found(request, viewer)
    flash, kind = NOTICES.get(notice or "", (None, None))
    return render(
        request,
        "domains/detail.html",
        viewer,
        activity=activity,
        revokers=revokers,
        label=dataset_label,
        flash=flash,
        flash_kind=kind,
        nav="integrations",
    )


@router.get("/domains/{domain_id}/activity")
def activity_fragment(
    request: Request, domain_id: RowId, viewer: Annotated[Viewer, require(Permission.READ)]
) -> Response:
    """The part of the page a sync changes, for htmx to poll while a job is active."""
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        activity = domain_activity(session, domain_id, runtime.settings, runtime.clock.now())
    if activity is None:
        if request.headers.get("hx-request") == "true":
            return Response(status_code=HTMX_STOP_POLLING)  # deleted while a page polled it
        return _not_found(request, viewer)
    return render(request, "domains/_activity.html", viewer, activity=activity, label=dataset_label)


@router.post("/domains/{domain_id}/sync")
def sync_now(
    request: Request,
    domain_id: RowId,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_SYNC)],
    full: Annotated[bool, Form()] = False,
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        requested = request_sync(session, domain_id, viewer.principal, runtime.clock.now(), full=full)
    if requested is None:
        return _not_found(request, viewer)
    return _back(domain_id, "queued" if requested[1] else "busy")


@router.post("/domains/{domain_id}/cancel")
def cancel(
    request: Request, domain_id: RowId, viewer: Annotated[Viewer, require(Permission.DOMAINS_SYNC)]
) -> Response:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        touched = request_cancel(session, domain_id, viewer.principal, runtime.clock.now())
    if touched is None:
        return _not_found(request, viewer)
    return _back(domain_id, "cancelled" if touched else "idle")


def _back(domain_id: int, notice: str) -> Response:
    return RedirectResponse(f"/domains/{domain_id}?notice={notice}", status_code=303)
