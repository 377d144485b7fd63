"""api.atlassian.com's token-scoped discovery: accessible-resources and /me (references §1.4-1.5).

The product APIs behind ``/ex/{product}/{cloudId}`` go through ``appgov_sim.endpoint``; these two
answer for the token itself.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.http import JSONResponse, gateway_error
from appgov_sim.oauth import Grant
from appgov_sim.routes.authserver import logged
from appgov_sim.scopes import scopes_for_products
from appgov_sim.state import SimState
from appgov_sim.tenant.model import Account

SITE_AVATAR = "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png"
PROFILE_AVATAR = "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/{account_id}/128"


def bearer_grant(request: Request) -> Grant | Response:
    """The live grant behind the request's bearer token, or the gateway's 401."""
    state: SimState = request.app.state.sim
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    live = state.oauth.access(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if live is None:
        return gateway_error(401, "Unauthorized")
    return live[0]


@logged("gateway")
async def accessible_resources(request: Request) -> Response:
    """One entry per granted site, scopes narrowed to the site's products (order is not promised)."""
    state: SimState = request.app.state.sim
    grant = bearer_grant(request)
    if isinstance(grant, Response):
        return grant
    entries = []
    for cloud_id in grant.cloud_ids:
        site = state.tenant.site_by_cloud_id(cloud_id)
        if site is None:
            continue
        entries.append(
            {
                "id": site.cloud_id,
                "url": state.site_base(site),
                "name": site.name,
                "scopes": scopes_for_products(grant.scopes, site.products),
                "avatarUrl": SITE_AVATAR,
            }
        )
    return JSONResponse(entries)


def profile(account: Account) -> dict[str, Any]:
    """The account as the User Identity API returns it (references §1.5)."""
    return {
        "account_type": account.account_type,
        "account_id": account.account_id,
        "email": account.email,
        "email_verified": True,
        "name": account.display_name,
        "picture": PROFILE_AVATAR.format(account_id=account.account_id),
        "account_status": "active" if account.active else "inactive",
        "nickname": account.display_name.split(" ")[0].lower(),
        "zoneinfo": account.time_zone,
        "locale": account.locale.replace("_", "-"),
        "extended_profile": {},
    }


@logged("gateway")
async def me(request: Request) -> Response:
    state: SimState = request.app.state.sim
    grant = bearer_grant(request)
    if isinstance(grant, Response):
        return grant
    if "read:me" not in grant.scopes:
        return gateway_error(401, "Unauthorized; scope does not match")
    account = state.tenant.accounts.get(grant.account_id)
    if account is None:
        return gateway_error(401, "Unauthorized")
    return JSONResponse(profile(account))


ROUTES: list[BaseRoute] = [
    Route("/oauth/token/accessible-resources", accessible_resources, methods=["GET"]),
    Route("/me", me, methods=["GET"]),
]
