"""Jira Cloud platform REST API v3 (and the v2/latest paths the popular clients call) on a site.

Each handler carries its requirement (scopes, admin, anonymous) beside it, from api-facts §1.7/§4.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.endpoint import Requirement, SiteContext, site_endpoint
from appgov_sim.http import JSONResponse
from appgov_sim.paging import page_params, window
from appgov_sim.tenant.model import Account

API = "/rest/api/{version:apiversion}"


def jira_time(ms: int) -> str:
    """Jira's timestamp format: ``2025-12-01T10:00:00.000+0000``."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


def avatar_urls(account_id: str) -> dict[str, str]:
    base = f"https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/{account_id}"
    return {size: f"{base}/{size}.png" for size in ("48x48", "24x24", "16x16", "32x32")}


def render_user(ctx: SiteContext, account: Account) -> dict[str, Any]:
    """Jira's ``User`` as users/search and group/member return it."""
    body: dict[str, Any] = {
        "self": ctx.url(f"/rest/api/3/user?accountId={account.account_id}"),
        "accountId": account.account_id,
        "accountType": account.account_type,
    }
    if account.account_type != "app" and account.email:
        body["emailAddress"] = account.email
    body.update(
        {
            "avatarUrls": avatar_urls(account.account_id),
            "displayName": account.display_name,
            "active": account.active,
            "timeZone": account.time_zone,
            "locale": account.locale,
        }
    )
    return body


@site_endpoint(Requirement("jira", anonymous=True))
async def server_info(ctx: SiteContext) -> Response:
    """GET /rest/api/3/serverInfo: anonymous; the popular clients branch on deploymentType."""
    site_url = ctx.state.site_base(ctx.site)
    return JSONResponse(
        {
            "baseUrl": site_url,
            "displayUrl": site_url,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100300,
            "buildDate": "2025-11-20T00:00:00.000+0000",
            "serverTime": jira_time(int(ctx.state.clock.time() * 1000)),
            "scmInfo": "57a0ca5b3c1b4e9a8c1d2e3f4a5b6c7d8e9f0a1b",
            "serverTitle": ctx.site.title,
            "defaultLocale": {"locale": "en_US"},
            "serverTimeZone": "Etc/UTC",
        }
    )


@site_endpoint(
    Requirement(
        "jira",
        "read:jira-user",
        ("read:user:jira", "read:application-role:jira", "read:avatar:jira", "read:group:jira"),
    )
)
async def users_search(ctx: SiteContext) -> Response:
    """GET /rest/api/3/users/search: a bare array; clients page until a short page."""
    start, size = page_params(ctx.params, "users/search")
    win = window(ctx.site.user_ids, start, size, ctx.quirks)
    accounts = ctx.state.tenant.accounts
    return JSONResponse([render_user(ctx, accounts[i]) for i in win.items])


ROUTES: list[BaseRoute] = [
    Route(f"{API}/serverInfo", server_info),
    Route(f"{API}/users/search", users_search),
    Route(f"{API}/users", users_search),  # deprecated alias
]
