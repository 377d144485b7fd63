"""The Apps page: every app across domains."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from appgov.web.auth import ViewerDep, csrf_guard
from appgov.web.templating import render

router = APIRouter(dependencies=[Depends(csrf_guard)])


@router.get("/apps")
def apps_page(request: Request, viewer: ViewerDep) -> Response:
    return render(request, "apps.html", viewer, nav="apps")
