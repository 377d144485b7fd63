"""The app inventory over REST: the Apps page's filters, sorts and paging as JSON, and the exports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from appgov.accounts.permissions import Permission
from appgov.inventory.listing import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    SORTS,
    STATUSES,
    AppFilter,
    AppOrder,
    AppRow,
    app_page,
)
from appgov.web.auth import Viewer, require, runtime_of
from appgov.web.inputs import RowId
from appgov.web.pages.apps import export_response

router = APIRouter(tags=["apps"])
SORT_PATTERN = f"^({'|'.join(SORTS)})$"
STATUS_PATTERN = f"^({'|'.join(STATUSES)})$"


class AppPageOut(BaseModel):
    items: list[AppRow] = Field(
        description="names, vendors, scopes and links are the vendor's text, installer names the"
        " tenant's, unescaped; installed_by is the installer's account id, installed_by_name their"
        " display name (null when neither the source nor the directory gives one), installed_source"
        " where installer and time came from (org_audit, gateway, upm_feed; null: unknown, for the reason"
        " installer_unknown_reason gives); scopes and egress are null when unknown, scopes_source"
        " says where they came from (gateway, marketplace); enrichment is null once the Marketplace"
        " enriched the app, enrichment_pending while the next sync is to do it"
    )
    total: int = Field(description="apps the filters select, across all pages")
    page: int
    per_page: int
    pages: int


DomainQuery = Annotated[RowId | None, Query(description="only this domain's apps")]
StatusQuery = Annotated[str | None, Query(pattern=STATUS_PATTERN)]
TextQuery = Annotated[
    str, Query(max_length=200, description="in the name, the vendor, the key or the installer's name")
]


@router.get("/apps")
def list_apps(
    request: Request,
    _: Annotated[Viewer, require(Permission.READ)],
    domain_id: DomainQuery = None,
    status: StatusQuery = None,
    q: TextQuery = "",
    sort: Annotated[str, Query(pattern=SORT_PATTERN)] = "name",
    dir: Literal["asc", "desc"] = "asc",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> AppPageOut:
    """Every app across domains, filtered, sorted and paged like the Apps page."""
    with runtime_of(request).sessions() as session:
        found = app_page(
            session, AppFilter(domain_id, status, q), AppOrder(sort, dir == "desc"), page, per_page
        )
    return AppPageOut(
        items=found.rows,
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        pages=found.pages,
    )


@router.get("/apps/export", response_class=Response)
def export_apps(
    request: Request,
    _: Annotated[Viewer, require(Permission.READ)],
    format: Literal["csv", "json"] = "json",
    domain_id: DomainQuery = None,
    status: StatusQuery = None,
    q: TextQuery = "",
) -> Response:
    """The filtered inventory as a file: formula-safe CSV or a JSON array, one row per app per domain."""
    return export_response(request, format, AppFilter(domain_id, status, q))
