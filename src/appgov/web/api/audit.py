"""The audit trail over REST: the Audit page's filters and paging as JSON, and the exports. Read-only:
there is no route that changes or deletes an event."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from appgov.audit.listing import MAX_PAGE_SIZE, PAGE_SIZE, AuditRow, audit_page
from appgov.web.auth import runtime_of
from appgov.web.inputs import RowId
from appgov.web.openapi import BAD_REQUEST
from appgov.web.pages.audit import Filters, Reader, export_response, parsed

router = APIRouter(tags=["audit"], responses={400: BAD_REQUEST})


class AuditEventOut(BaseModel):
    id: int
    at: datetime = Field(description="when, in UTC")
    actor: str = Field(description="who: a user's email, an operating-system user, or scheduler; unescaped")
    actor_user_id: int | None = Field(description="the console user's id, when a user acted")
    via: str = Field(description="console | sso | api | cli | scheduler")
    action: str = Field(description="what: signin.failed, access.denied, domain.added, ... (docs/audit.md)")
    target: str = Field(description="to what: a site URL, an email, a method and path; unescaped")
    outcome: str = Field(description="success | failure | denied")
    address: str | None = Field(description="the client's address, over HTTP")
    request_id: str | None = Field(description="the X-Request-Id of the answer to the request")
    detail: dict[str, Any]


class AuditPageOut(BaseModel):
    items: list[AuditEventOut] = Field(description="newest first")
    total: int = Field(description="events the filters select, across all pages")
    newer_after: int | None = Field(description="pass as `after` for the newer page; null on the newest")
    older_before: int | None = Field(description="pass as `before` for the older page; null on the oldest")


def _out(row: AuditRow) -> AuditEventOut:
    return AuditEventOut.model_validate(row, from_attributes=True)


@router.get("/audit")
def list_audit_events(
    request: Request,
    _: Reader,
    filters: Filters,
    before: Annotated[RowId | None, Query(description="only events older than this id")] = None,
    after: Annotated[RowId | None, Query(description="only events newer than this id")] = None,
    per_page: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> AuditPageOut:
    """The audit trail, filtered like the Audit page, newest first, a page at a time."""
    where = parsed(filters)
    with runtime_of(request).sessions() as session:
        found = audit_page(session, where, before=before, after=after, per_page=per_page)
    return AuditPageOut(
        items=[_out(row) for row in found.rows],
        total=found.total,
        newer_after=found.newer_after,
        older_before=found.older_before,
    )


@router.get("/audit/export", response_class=Response)
def export_audit_events(
    request: Request,
    _: Reader,
    filters: Filters,
    format: Literal["csv", "json"] = "json",
) -> Response:
    """The filtered trail as a file, newest first (up to 100,000 events): formula-safe CSV or a JSON
    array, one event a line."""
    return export_response(request, format, filters)
