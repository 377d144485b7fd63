"""The Apps page: a read-only table of every app across domains, sorted, filtered and paged on the
server (links carry the state in the query string, so a filtered view can be shared), and its
CSV and JSON exports."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from appgov.accounts.permissions import Permission
from appgov.exports import MEDIA_TYPES
from appgov.inventory.export import export_text
from appgov.inventory.listing import PAGE_SIZE, SORTS, STATUSES, AppFilter, AppOrder, app_page
from appgov.storage.models import Domain
from appgov.web.auth import Viewer, require, runtime_of
from appgov.web.inputs import row_id
from appgov.web.templating import render

router = APIRouter()


def page_filter(domain: str | None, status: str | None, q: str | None) -> AppFilter:
    """What the query string asks for; values the page never offers are ignored, not refused."""
    return AppFilter(row_id(domain), status if status in STATUSES else None, (q or "").strip()[:200])


def filter_query(where: AppFilter) -> dict[str, str]:
    query = {"domain": str(where.domain_id or ""), "status": where.status or "", "q": where.text}
    return {k: v for k, v in query.items() if v}


def export_response(request: Request, format: str, where: AppFilter) -> Response:
    with runtime_of(request).sessions() as session:
        text = export_text(session, format, where)
    disposition = f'attachment; filename="appgov-apps.{format}"'
    return Response(text, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition})


@router.get("/apps")
def apps_page(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.READ)],
    domain: str | None = None,
    status: str | None = None,
    q: str | None = None,
    sort: str = "name",
    dir: str = "asc",
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> Response:
    where = page_filter(domain, status, q)
    order = AppOrder(sort if sort in SORTS else "name", dir == "desc")
    with runtime_of(request).sessions() as session:
        found = app_page(session, where, order, page, per_page)
        domains = list(session.execute(select(Domain.id, Domain.name).order_by(Domain.name)))
    state = {**filter_query(where), "sort": order.column, "dir": "desc" if order.descending else "asc"}
    if found.per_page != PAGE_SIZE:
        state["per_page"] = str(found.per_page)

    def link(**changes: str | int) -> str:
        """This view's URL with some of its query changed (a sort, a page)."""
        return "/apps?" + urlencode({**state, **{k: str(v) for k, v in changes.items()}})

    def sort_link(column: str) -> str:
        flip = column == order.column and not order.descending
        return link(sort=column, dir="desc" if flip else "asc", page=1)

    return render(
        request,
        "apps.html",
        viewer,
        found=found,
        where=where,
        order=order,
        domains=domains,
        statuses=STATUSES,
        link=link,
        sort_link=sort_link,
        export_query=urlencode(filter_query(where)),
        nav="apps",
    )


@router.get("/apps/export.csv")
def export_csv(
    request: Request,
    _: Annotated[Viewer, require(Permission.READ)],
    domain: str | None = None,
    status: str | None = None,
    q: str | None = None,
) -> Response:
    return export_response(request, "csv", page_filter(domain, status, q))


@router.get("/apps/export.json")
def export_json(
    request: Request,
    _: Annotated[Viewer, require(Permission.READ)],
    domain: str | None = None,
    status: str | None = None,
    q: str | None = None,
) -> Response:
    return export_response(request, "json", page_filter(domain, status, q))
