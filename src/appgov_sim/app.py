"""The simulator's ASGI application: every surface on one host and port.

| prefix | stands in for |
|---|---|
| ``/authorize``, ``/oauth/token`` | auth.atlassian.com |
| ``/oauth/token/accessible-resources``, ``/me``, ``/ex/{product}/{cloudId}`` | the API gateway |
| ``/admin/...``, ``/users/{accountId}/manage/...`` | api.atlassian.com organization admin API |
| ``/sites/{name}`` | https://{name}.atlassian.net (Jira, Confluence under /wiki, the plugin manager) |
| ``/marketplace`` | marketplace.atlassian.com |
| ``/_sim`` | the simulator's own control API |
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount

from appgov_sim.http import JSONResponse, confluence_error, gateway_error, jira_error
from appgov_sim.routes import (
    authserver,
    confluence,
    control,
    edge,
    gateway,
    jira,
    marketplace,
    orgadmin,
    site_graphql,
    upm,
)
from appgov_sim.routing import RouteTable
from appgov_sim.state import SimState


def create_app(state: SimState) -> Any:
    site = [*jira.ROUTES, *confluence.ROUTES, *upm.ROUTES, *edge.ROUTES, *site_graphql.ROUTES]
    wiki = [*confluence.ROUTES, *confluence.GATEWAY_ROUTES]
    routes = [
        Mount("/sites/{site}", routes=[RouteTable(site)]),
        Mount("/ex/jira/{cloud_id}", routes=[RouteTable(jira.ROUTES)]),
        Mount("/ex/confluence/{cloud_id}", routes=[RouteTable(wiki)]),
        Mount("/marketplace", routes=[RouteTable(marketplace.ROUTES)]),
        Mount("/_sim", routes=[RouteTable(control.ROUTES)]),
        *gateway.ROUTES,
        *authserver.ROUTES,
        *orgadmin.ROUTES,
    ]
    app = Starlette(
        routes=[RouteTable(routes)],
        exception_handlers={HTTPException: _http_error},  # type: ignore[dict-item]
    )
    app.state.sim = state
    control.register_operations(state)

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        # the raw server `send` lets a fault abort the TCP connection (appgov_sim.endpoint)
        scope["sim.raw_send"] = send
        await app(scope, receive, send)

    return asgi


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Unknown paths and methods, answered in the shape of the surface they fell under."""
    path = request.url.path
    status = exc.status_code
    message = "Not Found" if status == 404 else "Method Not Allowed"
    headers = dict(exc.headers or {})
    if (path.startswith("/sites/") and "/wiki/" in path) or path.startswith("/ex/confluence/"):
        return confluence_error(status, message, headers)
    if path.startswith(("/sites/", "/ex/jira/")) and "/rest/" in path:
        return jira_error(
            status, f"null for uri: {request.url}" if status == 404 else message, headers=headers
        )
    if path.startswith(("/ex/", "/admin/", "/users/", "/oauth/", "/me")):
        return gateway_error(status, message, headers)
    if path.startswith(("/marketplace", "/_sim")):
        return JSONResponse({"message": message, "status": status}, status, headers)
    return PlainTextResponse(message, status, headers)
