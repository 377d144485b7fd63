"""Control-API endpoints that change the tenant: apps, users, groups and memberships.

Each goes through ``appgov_sim.tenant.mutations`` and ``SimState.apply``, so a ``--data-dir``
restart replays it. Documented in docs/simulator/control.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.http import JSONResponse
from appgov_sim.routes.control_auth import body, control
from appgov_sim.state import SimState
from appgov_sim.tenant import mutations
from appgov_sim.tenant.model import Account, Group, InstalledApp
from appgov_sim.tenant.mutations import MutationError, journaled

# journaled mutations by name: fn(state, args) -> result (see SimState.apply)
OPERATIONS: dict[str, Callable[[SimState, dict[str, Any]], Any]] = dict(mutations.OPERATIONS)

Handler = Callable[[Request, SimState], Awaitable[Response]]


def guarded(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Behind the control token, with a refused change answered by its status."""

    async def attempt(request: Request, state: SimState) -> Response:
        try:
            return await handler(request, state)
        except MutationError as err:
            return JSONResponse({"message": err.message}, err.status)

    attempt.__name__ = handler.__name__
    return control(attempt)


def _change(state: SimState, request: Request, change: Callable[..., Any], **args: Any) -> Any:
    """Journal a change to the site in the path; a refusal is raised as ``MutationError``."""
    return journaled(state, change, site=request.path_params["site"], **args)


def _app_change(
    state: SimState, request: Request, data: dict[str, Any], change: Callable[..., Any], **args: Any
) -> Any:
    """An app change made now by ``actor`` (default: the site's first user, its admin)."""
    site = state.tenant.site(request.path_params["site"])
    actor = data.get("actor") or (site.user_ids[0] if site else "")
    return _change(state, request, change, actor=str(actor), at_ms=int(state.clock.time() * 1000), **args)


def app_json(app: InstalledApp) -> dict[str, Any]:
    return {
        "key": app.key,
        "product": app.product,
        "name": app.name,
        "version": app.version,
        "enabled": app.enabled,
        "user_installed": app.user_installed,
        "framework": app.framework,
        "bot_account_id": app.bot_account_id,
        "installed_ms": app.installed_ms,
    }


def account_json(account: Account) -> dict[str, Any]:
    return {
        "account_id": account.account_id,
        "email": account.email,
        "display_name": account.display_name,
        "account_type": account.account_type,
        "active": account.active,
    }


def group_json(group: Group) -> dict[str, Any]:
    return {"group_id": group.group_id, "name": group.name, "members": len(group.members)}


# --- apps ---------------------------------------------------------------------------------------


async def install_app(request: Request, state: SimState) -> Response:
    """POST /sites/{site}/apps ``{"product", "key", "version"?, "actor"?}``."""
    data = await body(request)
    app = _app_change(
        state,
        request,
        data,
        mutations.install_app,
        product=str(data["product"]),
        key=str(data["key"]),
        version=data.get("version"),
        bot_account_id=mutations.new_account_id(),
    )
    return JSONResponse(app_json(app), 201)


async def uninstall_app(request: Request, state: SimState) -> Response:
    """DELETE /sites/{site}/apps/{product}/{key}: the bot user turns inactive."""
    _app_change(state, request, {}, mutations.uninstall_app, **_app_path(request))
    return Response(status_code=204)


async def upgrade_app(request: Request, state: SimState) -> Response:
    """POST .../upgrade ``{"version"?}`` or ``{"scopes": [...]}`` (publishes a new version)."""
    data = await body(request)
    scopes = data.get("scopes")
    if scopes is not None and not (isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)):
        raise ValueError("scopes must be a list of strings")
    app = _app_change(
        state,
        request,
        data,
        mutations.upgrade_app,
        version=data.get("version"),
        scopes=scopes,
        **_app_path(request),
    )
    return JSONResponse(app_json(app))


async def enable_app(request: Request, state: SimState) -> Response:
    return await _set_enabled(request, state, True)


async def disable_app(request: Request, state: SimState) -> Response:
    return await _set_enabled(request, state, False)


async def _set_enabled(request: Request, state: SimState, enabled: bool) -> Response:
    data = await body(request)
    app = _app_change(state, request, data, mutations.set_app_enabled, enabled=enabled, **_app_path(request))
    return JSONResponse(app_json(app))


def _app_path(request: Request) -> dict[str, str]:
    return {"product": request.path_params["product"], "key": request.path_params["key"]}


# --- users, groups and memberships ------------------------------------------------------------


async def add_user(request: Request, state: SimState) -> Response:
    """POST /sites/{site}/users ``{"email", "display_name", "account_type"?, "active"?}``."""
    data = await body(request)
    account = _change(
        state,
        request,
        mutations.add_user,
        account_id=str(data.get("account_id") or mutations.new_account_id()),
        email=str(data["email"]),
        display_name=str(data["display_name"]),
        account_type=str(data.get("account_type", "atlassian")),
        active=bool(data.get("active", True)),
    )
    return JSONResponse(account_json(account), 201)


async def remove_user(request: Request, state: SimState) -> Response:
    """DELETE /sites/{site}/users/{account_id}: with its memberships and project role actors."""
    _change(state, request, mutations.remove_user, account_id=request.path_params["account_id"])
    return Response(status_code=204)


async def add_group(request: Request, state: SimState) -> Response:
    """POST /sites/{site}/groups ``{"name"}``."""
    data = await body(request)
    group = _change(
        state, request, mutations.add_group, group_id=mutations.new_group_id(), name=str(data["name"])
    )
    return JSONResponse(group_json(group), 201)


async def remove_group(request: Request, state: SimState) -> Response:
    """DELETE /sites/{site}/groups/{group} (id or name)."""
    _change(state, request, mutations.remove_group, group=request.path_params["group"])
    return Response(status_code=204)


async def add_membership(request: Request, state: SimState) -> Response:
    """POST /sites/{site}/groups/{group}/members ``{"account_id"}``."""
    data = await body(request)
    group = _change(
        state,
        request,
        mutations.add_membership,
        group=request.path_params["group"],
        account_id=str(data["account_id"]),
    )
    return JSONResponse(group_json(group), 201)


async def remove_membership(request: Request, state: SimState) -> Response:
    """DELETE /sites/{site}/groups/{group}/members/{account_id}."""
    _change(
        state,
        request,
        mutations.remove_membership,
        group=request.path_params["group"],
        account_id=request.path_params["account_id"],
    )
    return Response(status_code=204)


APP = "/sites/{site}/apps/{product}/{key:path}"
GROUP = "/sites/{site}/groups/{group:path}"

ROUTES: list[BaseRoute] = [
    Route("/sites/{site}/apps", guarded(install_app), methods=["POST"]),
    Route(f"{APP}/upgrade", guarded(upgrade_app), methods=["POST"]),
    Route(f"{APP}/enable", guarded(enable_app), methods=["POST"]),
    Route(f"{APP}/disable", guarded(disable_app), methods=["POST"]),
    Route(APP, guarded(uninstall_app), methods=["DELETE"]),
    Route("/sites/{site}/users", guarded(add_user), methods=["POST"]),
    Route("/sites/{site}/users/{account_id}", guarded(remove_user), methods=["DELETE"]),
    Route("/sites/{site}/groups", guarded(add_group), methods=["POST"]),
    Route(f"{GROUP}/members", guarded(add_membership), methods=["POST"]),
    Route(f"{GROUP}/members/{{account_id}}", guarded(remove_membership), methods=["DELETE"]),
    Route(GROUP, guarded(remove_group), methods=["DELETE"]),
]
