"""The simulator's control API under ``/_sim``, protected by the control token.

Documented in ``src/appgov_sim/README.md``. Every mutation goes through ``SimState.apply`` so that a
``--data-dir`` restart replays it.
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.groundtruth import ground_truth
from appgov_sim.http import JSONResponse
from appgov_sim.ratelimit import BurstLimiter
from appgov_sim.routes import control_oauth, control_tenant, orgadmin
from appgov_sim.routes.control_auth import body, control
from appgov_sim.state import SimState
from appgov_sim.tenant.model import BurstLimit, Switches


@control
async def add_fault(request: Request, state: SimState) -> Response:
    data = await body(request)
    fault = state.faults.add(
        data["kind"],
        site=data.get("site"),
        path=data.get("path", "*"),
        times=int(data.get("times", -1)),
        params=data.get("params"),
    )
    return JSONResponse(fault.to_json(), 201)


@control
async def list_faults(request: Request, state: SimState) -> Response:
    return JSONResponse([f.to_json() for f in state.faults.faults])


@control
async def clear_faults(request: Request, state: SimState) -> Response:
    fault_id = request.path_params.get("fault_id")
    if fault_id is None:
        state.faults.clear()
    elif not state.faults.remove(int(fault_id)):
        return JSONResponse({"message": "no such fault"}, 404)
    return Response(status_code=204)


@control
async def advance_clock(request: Request, state: SimState) -> Response:
    data = await body(request)
    state.apply("advance_clock", {"seconds": float(data["seconds"])})
    return JSONResponse({"now": state.clock.now().isoformat(), "offset_seconds": state.clock.offset_seconds})


@control
async def mint_grant(request: Request, state: SimState) -> Response:
    """Consent without a browser: a grant for an account and sites, returning its tokens."""
    data = await body(request)
    account = state.tenant.account_by_email(data["email"])
    if account is None:
        return JSONResponse({"message": "no such account"}, 404)
    cloud_ids = [site.cloud_id for site in state.tenant.sites if site.name in data["sites"]]
    if len(cloud_ids) != len(data["sites"]):
        return JSONResponse({"message": "unknown site"}, 404)
    tokens = state.oauth.consent(state.client.client_id, account.account_id, cloud_ids, list(data["scopes"]))
    state.save()
    grant = state.oauth.grant_for(state.client.client_id, account.account_id)
    assert grant is not None
    return JSONResponse({**tokens, "grant_id": grant.grant_id}, 201)


@control
async def set_burst_limit(request: Request, state: SimState) -> Response:
    """PUT /_sim/sites/{site}/burst-limit ``{"concurrency": n, "requests_per_second": r}``."""
    data = await body(request)
    args = {
        "site": request.path_params["site"],
        "concurrency": int(data["concurrency"]),
        "requests_per_second": float(data["requests_per_second"]),
    }
    if state.tenant.site(args["site"]) is None:
        return JSONResponse({"message": "no such site"}, 404)
    if args["concurrency"] < 1 or args["requests_per_second"] <= 0:
        raise ValueError("concurrency must be >= 1 and requests_per_second > 0")
    state.apply("set_burst_limit", args)
    return JSONResponse({k: v for k, v in args.items() if k != "site"})


@control
async def set_switches(request: Request, state: SimState) -> Response:
    """PUT /_sim/switches: any of ``forge_apps``, ``app_audit_records``, ``upm_log_feed``,
    ``gateway_permissions`` (docs/simulator/control.md); answers every switch."""
    data = await body(request)
    unknown = set(data) - {f.name for f in fields(Switches)}
    if unknown:
        raise ValueError(f"unknown switches: {', '.join(sorted(unknown))}")
    if any(not isinstance(data[name], bool) for name in data if name != "forge_apps"):
        raise ValueError("app_audit_records, upm_log_feed and gateway_permissions are booleans")
    replace(state.tenant.switches, **data)  # refused here, before journaling, when a value is wrong
    state.apply("set_switches", data)
    return JSONResponse(asdict(state.tenant.switches))


@control
async def read_switches(request: Request, state: SimState) -> Response:
    return JSONResponse(asdict(state.tenant.switches))


@control
async def read_counters(request: Request, state: SimState) -> Response:
    return JSONResponse(
        {
            "counters": dict(state.counters),
            "refresh_requests": state.oauth.refresh_requests,
            "faults": [f.to_json() for f in state.faults.faults],
        }
    )


@control
async def read_log(request: Request, state: SimState) -> Response:
    limit = int(request.query_params.get("limit", "1000"))
    if limit < 0:
        raise ValueError("limit must be >= 0")
    entries = list(state.request_log)[-limit:] if limit else []  # [-0:] would be everything
    return JSONResponse(
        [
            {
                "time": e.time,
                "method": e.method,
                "path": e.path,
                "query": e.query,
                "status": e.status,
                "surface": e.surface,
                "site": e.site,
                "auth": e.auth,
            }
            for e in entries
        ]
    )


@control
async def reset_log(request: Request, state: SimState) -> Response:
    state.request_log.clear()
    state.counters.clear()
    state.oauth.refresh_requests = 0
    return Response(status_code=204)


@control
async def read_ground_truth(request: Request, state: SimState) -> Response:
    return JSONResponse(ground_truth(state.tenant))


def _advance_clock(state: SimState, args: dict[str, Any]) -> None:
    state.clock.advance(args["seconds"])


def _set_burst_limit(state: SimState, args: dict[str, Any]) -> None:
    site = state.tenant.site(args["site"])
    assert site is not None  # checked before journaling
    site.burst = BurstLimit(args["concurrency"], args["requests_per_second"])
    state.limiters[site.name] = BurstLimiter(site.burst, state.clock)


def _set_switches(state: SimState, args: dict[str, Any]) -> None:
    state.tenant.switches = replace(state.tenant.switches, **args)


def register_operations(state: SimState) -> None:
    """The journaled mutations, by name (replayed by ``SimState.load``)."""
    state.operations.update(
        {
            "advance_clock": _advance_clock,
            "set_burst_limit": _set_burst_limit,
            "set_switches": _set_switches,
            **control_oauth.OPERATIONS,
            **control_tenant.OPERATIONS,
            **orgadmin.OPERATIONS,
        }
    )


ROUTES: list[BaseRoute] = [
    Route("/faults", add_fault, methods=["POST"]),
    Route("/faults", list_faults, methods=["GET"]),
    Route("/faults", clear_faults, methods=["DELETE"]),
    Route("/faults/{fault_id:int}", clear_faults, methods=["DELETE"]),
    Route("/clock", advance_clock, methods=["POST"]),
    Route("/sites/{site}/burst-limit", set_burst_limit, methods=["PUT"]),
    Route("/switches", set_switches, methods=["PUT"]),
    Route("/switches", read_switches, methods=["GET"]),
    Route("/grants", mint_grant, methods=["POST"]),
    Route("/counters", read_counters, methods=["GET"]),
    Route("/log", read_log, methods=["GET"]),
    Route("/log", reset_log, methods=["DELETE"]),
    Route("/ground-truth", read_ground_truth, methods=["GET"]),
    *control_oauth.ROUTES,
    *control_tenant.ROUTES,
]
