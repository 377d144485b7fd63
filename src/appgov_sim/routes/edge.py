"""``GET /_edge/tenant_info`` on a site: the unauthenticated cloudId lookup clients make first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from appgov_sim.http import JSONResponse
from appgov_sim.state import LoggedRequest, SimState


async def tenant_info(request: Request) -> Response:
    """``{"cloudId": ...}`` for anyone: it needs no credentials on the real host either."""
    state: SimState = request.app.state.sim
    site = state.tenant.site(request.path_params["site"])
    response = JSONResponse({"cloudId": site.cloud_id}) if site else PlainTextResponse("Site not found", 404)
    state.record(
        LoggedRequest(
            state.clock.time(),
            request.method,
            request.url.path,
            request.url.query,
            response.status_code,
            "site",
            site.name if site else None,
            "none",
        )
    )
    return response


ROUTES: list[BaseRoute] = [Route("/_edge/tenant_info", tenant_info)]
