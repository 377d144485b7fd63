"""The answer to input the routes cannot read (422): the field and what is wrong with it, never the
value sent, which may be a password or an API token; a JSON body for the REST API, a page for forms.
And a 405 that names every method its path has."""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.routing import Match

from appgov.web.auth import optional_viewer
from appgov.web.templating import render

# "input" is the value sent; "ctx" can carry it too (a validator's error); "url" points at pydantic's docs
WITHHELD = frozenset({"input", "ctx", "url"})
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _without_input(error: RequestValidationError) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k not in WITHHELD} for e in error.errors()]


def _field(location: Any) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "the request"


async def invalid_input(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)  # registered for that class only
    errors = _without_input(error)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
    lines = "; ".join(f"{_field(e.get('loc', ()))}: {e.get('msg', 'not valid')}" for e in errors[:5])
    page = {
        "title": "The form could not be read",
        "message": f"{lines}. Go back, correct it and send it again.",
    }
    return render(request, "integrations/message.html", optional_viewer(request), 422, **page)


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's answer to an HTTP error, except that a 405's ``Allow`` names every method the path
    takes: Starlette names those of one route, and the API has a route per method (``GET /domains``
    and ``POST /domains``)."""
    assert isinstance(error, StarletteHTTPException)  # registered for that class only
    if error.status_code == 405:
        allowed = [method for method in METHODS if _routed(request, method)]
        error.headers = {**(error.headers or {}), "Allow": ", ".join(allowed)}
    return await http_exception_handler(request, error)


def _routed(request: Request, method: str) -> bool:
    """Whether some route takes ``method`` at the request's path (routers included by the app match
    their own routes)."""
    scope = {**request.scope, "method": method}
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.routes)
