"""The Audit page: the audit trail, newest first, filtered on the server and paged by event id (links
carry the filters in the query string), and its CSV and JSON exports. Read-only: no route changes
or deletes an event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from appgov.accounts.permissions import Permission
from appgov.audit.listing import COLUMNS, OUTCOMES, AuditFilter, audit_page, exported_rows
from appgov.exports import MEDIA_TYPES, export_chunks
from appgov.web.auth import Viewer, require, runtime_of
from appgov.web.inputs import RowId
from appgov.web.templating import render

router = APIRouter()


def given_filters(
    actor: Annotated[str, Query(max_length=320, description="the actor (an email) contains this")] = "",
    action: Annotated[str, Query(max_length=64, description="an action, or a prefix ending in a dot")] = "",
    outcome: Annotated[str, Query(max_length=16, description=" | ".join(OUTCOMES))] = "",
    target: Annotated[str, Query(max_length=500, description="the target contains this")] = "",
    since: Annotated[str, Query(max_length=40, description="at or after: 2026-12-05[T14:30], UTC")] = "",
    until: Annotated[str, Query(max_length=40, description="before; a date alone: to its end")] = "",
) -> dict[str, str]:
    """The filters the query string gives, empty ones left out (a dependency of every trail route)."""
    values = dict(actor=actor, action=action, outcome=outcome, target=target, since=since, until=until)
    return {name: value.strip() for name, value in values.items() if value.strip()}


Filters = Annotated[dict[str, str], Depends(given_filters)]
Reader = Annotated[Viewer, require(Permission.AUDIT_READ)]


def parsed(filters: dict[str, str]) -> AuditFilter:
    """The filter, or a 400 saying which value is wrong."""
    try:
        return AuditFilter.parse(**filters)
    except ValueError as err:
        raise HTTPException(400, str(err)) from None


def export_response(request: Request, format: str, filters: dict[str, str]) -> Response:
    """The filtered trail as a file, streamed: up to ``listing.EXPORT_LIMIT`` events, newest first."""
    where, sessions = parsed(filters), runtime_of(request).sessions

    def chunks() -> Iterator[str]:
        yield from export_chunks(format, COLUMNS, exported_rows(sessions, where))

    disposition = f'attachment; filename="appgov-audit.{format}"'
    headers = {"Content-Disposition": disposition}
    return StreamingResponse(chunks(), media_type=MEDIA_TYPES[format], headers=headers)


@router.get("/audit")
def audit_trail_page(
    request: Request,
    viewer: Reader,
    filters: Filters,
    before: RowId | None = None,
    after: RowId | None = None,
) -> Response:
    try:
        where, error = AuditFilter.parse(**filters), None
    except ValueError as err:  # the form keeps what was typed and says what is wrong with it
        where, error = None, f"Nothing is shown: {err}."
    with runtime_of(request).sessions() as session:
        found = audit_page(session, where, before=before, after=after) if where else None

    def link(**cursor: int) -> str:
        """This view's URL at another page."""
        return "/audit?" + urlencode({**filters, **cursor})

    return render(
        request,
        "audit.html",
        viewer,
        found=found,
        filters=filters,
        outcomes=OUTCOMES,
        link=link,
        export_query=urlencode(filters),
        flash=error,
        flash_kind="error",
        nav="audit",
    )


@router.get("/audit/export.csv")
def export_csv(request: Request, _: Reader, filters: Filters) -> Response:
    return export_response(request, "csv", filters)


@router.get("/audit/export.json")
def export_json(request: Request, _: Reader, filters: Filters) -> Response:
    return export_response(request, "json", filters)
