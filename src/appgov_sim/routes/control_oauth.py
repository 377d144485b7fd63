"""Control API for OAuth under ``/_sim``: list and revoke grants, expire or revoke their tokens.

OAuth state is saved as a snapshot (``SimState.save``) rather than journaled, so these handlers save
after each change and register no journaled operations. Minting a grant (``POST /_sim/grants``)
lives in ``appgov_sim.routes.control``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.http import JSONResponse
from appgov_sim.routes.control_auth import body, control
from appgov_sim.state import SimState

# journaled mutations by name (see SimState.apply): none, as OAuth state is snapshotted
OPERATIONS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {}

TokenAction = Callable[[SimState, str | None], int]

TOKEN_ACTIONS: dict[str, TokenAction] = {
    "access/expire": lambda state, grant_id: state.oauth.expire_access_tokens(grant_id),
    "refresh/expire": lambda state, grant_id: state.oauth.expire_refresh_tokens(grant_id),
    "refresh/revoke": lambda state, grant_id: state.oauth.revoke_refresh_tokens(grant_id),
}


async def list_grants(request: Request, state: SimState) -> Response:
    return JSONResponse([state.oauth.describe(g) for g in state.oauth.grants.values()])


async def revoke_grant(request: Request, state: SimState) -> Response:
    if not state.oauth.revoke_grant(request.path_params["grant_id"]):
        return JSONResponse({"message": "no such grant"}, 404)
    state.save()
    return Response(status_code=204)


async def token_action(request: Request, state: SimState) -> Response:
    """``POST /_sim/tokens/{access|refresh}/{expire|revoke}`` with an optional ``{"grant_id": ...}``."""
    action = TOKEN_ACTIONS.get(f"{request.path_params['kind']}/{request.path_params['action']}")
    if action is None:
        return JSONResponse({"message": "no such token action"}, 404)
    grant_id = (await body(request)).get("grant_id")
    if grant_id is not None and grant_id not in state.oauth.grants:
        return JSONResponse({"message": "no such grant"}, 404)
    affected = action(state, grant_id)
    state.save()
    return JSONResponse({"affected": affected})


ROUTES: list[BaseRoute] = [
    Route("/grants", control(list_grants), methods=["GET"]),
    Route("/grants/{grant_id}", control(revoke_grant), methods=["DELETE"]),
    Route("/tokens/{kind}/{action}", control(token_action), methods=["POST"]),
]
