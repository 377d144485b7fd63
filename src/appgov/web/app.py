"""The ASGI application: pages, the REST API, static files, security headers, error handling."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from appgov import __version__
from appgov.accounts.permissions import Permission
from appgov.runtime import Runtime
from appgov.web.api import apps as apps_api
from appgov.web.api import audit as audit_api
from appgov.web.api import domain_detail as domain_detail_api
from appgov.web.api import domains as domains_api
from appgov.web.api import notifications as notifications_api
from appgov.web.api import organizations as organizations_api
from appgov.web.api import session as session_api
from appgov.web.api import tokens as tokens_api
from appgov.web.api import users as users_api
from appgov.web.auth import SignInRequired, Viewer, csrf_guard, require, secure_cookies
from appgov.web.errors import http_error, invalid_input
from appgov.web.headers import SecurityHeaders
from appgov.web.inputs import readable_input
from appgov.web.limits import BodySizeLimit
from appgov.web.openapi import documented_openapi
from appgov.web.pages import (
    account,
    apps,
    audit,
    domains,
    integrations,
    invitations,
    notifications,
    signin,
    sso,
    users,
)
from appgov.workers.background import lifespan as background_lifespan

STATIC = Path(__file__).parent / "static"


def create_app(runtime: Runtime, *, background: bool = False) -> FastAPI:
    """The app; ``background`` also runs the job runner, the scheduler and the mail sender in-process."""
    app = FastAPI(
        title="appgov",
        version=__version__,
        description="Third-party app governance for Atlassian Cloud: the console's REST API.",
        docs_url=None,  # Swagger UI would load scripts from a CDN; the schema is served below
        redoc_url=None,
        openapi_url=None,
        lifespan=background_lifespan(runtime) if background else None,
        # every route: no NUL or lone surrogate in what it reads (BI-01); unsafe methods need the CSRF
        # token (WS-03)
        dependencies=[Depends(readable_input), Depends(csrf_guard)],
    )
    app.state.runtime = runtime
    app.add_middleware(BodySizeLimit)  # inside SecurityHeaders, so that its 413 carries them too
    app.add_middleware(
        SecurityHeaders, auth_url=runtime.settings.atlassian.auth_url, hsts=secure_cookies(runtime)
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(signin.router, include_in_schema=False)
    app.include_router(sso.router, include_in_schema=False)
    app.include_router(apps.router, include_in_schema=False)
    app.include_router(domains.router, include_in_schema=False)
    app.include_router(notifications.router, include_in_schema=False)
    app.include_router(integrations.router, include_in_schema=False)
    app.include_router(account.router, include_in_schema=False)
    app.include_router(users.router, include_in_schema=False)
    app.include_router(invitations.router, include_in_schema=False)
    app.include_router(audit.router, include_in_schema=False)
    api = APIRouter(prefix="/api/v1")
    api.include_router(session_api.router)
    api.include_router(domain_detail_api.router)
    api.include_router(apps_api.router)
    api.include_router(notifications_api.router)
    api.include_router(domains_api.router)
    api.include_router(organizations_api.router)
    api.include_router(tokens_api.router)
    api.include_router(users_api.router)
    api.include_router(audit_api.router)
    app.include_router(api)

    app.add_exception_handler(RequestValidationError, invalid_input)
    app.add_exception_handler(StarletteHTTPException, http_error)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, _: SignInRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_schema(_: Annotated[Viewer, require(Permission.READ)]) -> dict[str, Any]:
        return documented_openapi(app)

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/integrations", status_code=303)

    return app
