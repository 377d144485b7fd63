"""The control API's guard: every ``/_sim`` endpoint requires the control token."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from appgov_sim.http import JSONResponse
from appgov_sim.state import SimState

ControlHandler = Callable[[Request, SimState], Awaitable[Response]]


def control(handler: ControlHandler) -> Callable[[Request], Awaitable[Response]]:
    """Require the control token (``Authorization: Bearer`` or ``X-Sim-Control-Token``)."""

    async def endpoint(request: Request) -> Response:
        state: SimState = request.app.state.sim
        header = request.headers.get("authorization", "")
        token = (
            header[7:]
            if header.lower().startswith("bearer ")
            else request.headers.get("x-sim-control-token", "")
        )
        if not secrets.compare_digest(token.encode(), state.control_token.encode()):
            return JSONResponse({"message": "control token required"}, 401)
        try:
            return await handler(request, state)
        except (KeyError, ValueError, TypeError) as err:
            return JSONResponse({"message": f"bad request: {err}"}, 400)

    endpoint.__name__ = handler.__name__
    return endpoint


async def body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = orjson.loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data
