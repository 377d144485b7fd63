"""The organization admin API of api.atlassian.com (references §6 and §6.1).

Every endpoint takes the organization's API key as a bearer token; 3LO access tokens are refused
with a 401, as Atlassian refuses OAuth 2.0 apps here. Lists page with opaque cursors, ``links.next``
as a full URL, and errors use the admin API's own body (``appgov_sim.http.admin_error``).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.http import ApiError, JSONResponse, admin_error, int_param
from appgov_sim.paging import CAPS, CursorPage, cursor_links, cursor_page
from appgov_sim.state import LoggedRequest, SimState
from appgov_sim.tenant.model import Account, ApiToken, Organization, OrgApiKey, OrgEvent
from appgov_sim.tenant.org_audit import APP_ACTIONS, APP_ACTIONS_GROUP

ORG = "/admin/v1/orgs/{org_id}"
NO_PERMISSION = "User has no permission to access resource."  # the observed 403 message (references §6)
AVATARS = "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net"
PRODUCT_NAMES = {"jira": ("jira-software", "Jira Software"), "confluence": ("confluence", "Confluence")}
EPOCH_MS_MAX = 2**63 - 1  # the org API's from/to are int64 epoch milliseconds
ACTION_GROUPS = {"api": "API tokens", "user": "User management", "site": "Site administration"}


@dataclass(slots=True)
class AdminContext:
    request: Request
    state: SimState
    org: Organization
    api_key: str

    @property
    def params(self) -> Any:
        return self.request.query_params

    def url(self, path: str) -> str:
        return f"{self.state.base_url}{path}"

    def org_url(self, path: str = "") -> str:
        return self.url(f"/admin/v1/orgs/{self.org.org_id}{path}")


AdminHandler = Callable[[AdminContext], Awaitable[Response]]


def admin_endpoint(handler: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate the org API key, check the org id, render ``ApiError`` as the admin body, log."""

    async def endpoint(request: Request) -> Response:
        state: SimState = request.app.state.sim
        scheme = request.headers.get("authorization", "").partition(" ")[0].lower() or "none"
        status = 500
        try:
            response = await _serve(request, state, handler)
            status = response.status_code
            return response
        finally:
            state.record(
                LoggedRequest(
                    time.time(),
                    request.method,
                    request.url.path,
                    request.url.query,
                    status,
                    "admin",
                    None,
                    scheme,
                )
            )

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


async def _serve(request: Request, state: SimState, handler: AdminHandler) -> Response:
    org = state.tenant.org
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    try:
        # compare bytes: a header may carry non-ASCII, which compare_digest refuses on str
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            key.strip().encode(), org.api_key.encode()
        ):
            raise ApiError(401, "Unauthorized")
        if request.path_params.get("org_id", org.org_id) != org.org_id:
            raise ApiError(404, "Organization not found")
        return await handler(AdminContext(request, state, org, org.api_key))
    except ApiError as err:
        return admin_error(
            err.status,
            err.message,
            f"/api{request.url.path}",  # the observed body carries the service's internal /api prefix
            secrets.token_hex(16),
            state.clock.now().isoformat(timespec="milliseconds"),
            err.headers,
        )


def iso_ms(ms: int | None) -> str | None:
    """``2025-11-30T10:00:00.000Z``; None for a time that never happened (0 or None)."""
    if not ms:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def page_size(ctx: AdminContext, cap_key: str) -> int:
    default, maximum = CAPS[cap_key]
    return int_param(ctx.params, "limit", default, minimum=1, maximum=maximum)


def page_of(ctx: AdminContext, seq: Sequence[Any], size: int) -> CursorPage:
    return cursor_page(seq, ctx.params.get("cursor"), size)


def cursor_body(ctx: AdminContext, page: CursorPage, render: Callable[[Any], Any]) -> dict[str, Any]:
    """``{"data": [...], "links": {...}}`` for one cursor page."""
    url = ctx.url(ctx.request.url.path)
    return {"data": [render(item) for item in page.items], "links": cursor_links(url, ctx.params, page)}


# --- organizations and domains -------------------------------------------------------------------


def render_org(ctx: AdminContext) -> dict[str, Any]:
    return {
        "id": ctx.org.org_id,
        "type": "orgs",
        "attributes": {"name": ctx.org.name},
        "relationships": {
            "domains": {"links": {"related": ctx.org_url("/domains")}},
            "users": {"links": {"related": ctx.org_url("/users")}},
        },
        "links": {"self": ctx.org_url()},
    }


def domain_id(name: str) -> str:
    """A stable id per domain name [I]: the real ids are opaque."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


def render_domain(ctx: AdminContext, name: str) -> dict[str, Any]:
    return {
        "id": domain_id(name),
        "type": "domains",
        "attributes": {"name": name, "claim": {"type": "dns", "status": "verified"}},
        "links": {"self": ctx.org_url(f"/domains/{domain_id(name)}")},
    }


@admin_endpoint
async def list_orgs(ctx: AdminContext) -> Response:
    """GET /admin/v1/orgs: the one organization the API key belongs to."""
    page = page_of(ctx, [ctx.org], CAPS["org"][0])
    return JSONResponse(cursor_body(ctx, page, lambda _: render_org(ctx)))


@admin_endpoint
async def get_org(ctx: AdminContext) -> Response:
    """GET /admin/v1/orgs/{orgId}."""
    return JSONResponse({"data": render_org(ctx)})


@admin_endpoint
async def list_domains(ctx: AdminContext) -> Response:
    """GET /admin/v1/orgs/{orgId}/domains."""
    page = page_of(ctx, ctx.org.domains, CAPS["org"][0])
    return JSONResponse(cursor_body(ctx, page, lambda d: render_domain(ctx, d)))


@admin_endpoint
async def get_domain(ctx: AdminContext) -> Response:
    """GET /admin/v1/orgs/{orgId}/domains/{domainId}."""
    wanted = ctx.request.path_params["domain_id"]
    name = next((d for d in ctx.org.domains if domain_id(d) == wanted), None)
    if name is None:
        raise ApiError(404, "Domain not found")
    return JSONResponse({"data": render_domain(ctx, name)})


# --- managed accounts ----------------------------------------------------------------------------


def managed_humans(state: SimState) -> list[Account]:
    """Every managed human account of the organization's sites, in generation order."""
    return [a for a in state.tenant.accounts.values() if a.account_type == "atlassian" and a.managed]


def product_access(ctx: AdminContext, account: Account, members: dict[str, set[str]]) -> list[dict[str, Any]]:
    last_active = iso_ms(account.last_active_ms)
    return [
        {
            "key": PRODUCT_NAMES[product][0],
            "name": PRODUCT_NAMES[product][1],
            "url": f"{site.name}.atlassian.net",  # the real host, as a display value [I]
            "last_active": last_active[:10] if last_active else None,
        }
        for site in ctx.state.tenant.sites
        if account.account_id in members[site.name]
        for product in site.products
    ]


def render_org_user(ctx: AdminContext, account: Account, members: dict[str, set[str]]) -> dict[str, Any]:
    access = product_access(ctx, account, members)
    return {
        "account_id": account.account_id,
        "account_type": account.account_type,
        "account_status": "active" if account.active else "inactive",
        "name": account.display_name,
        "picture": f"{AVATARS}/{account.account_id}/128",
        "email": account.email,
        "access_billable": account.active and bool(access),
        "last_active": iso_ms(account.last_active_ms),
        "product_access": access,
        "links": {"self": ctx.url(f"/users/{account.account_id}/manage/profile")},
    }


@admin_endpoint
async def list_users(ctx: AdminContext) -> Response:
    """GET /admin/v1/orgs/{orgId}/users: every managed account, with ``meta.total``."""
    humans = managed_humans(ctx.state)
    # sets built per request: the control API may change site directories between requests
    members = {site.name: set(site.user_ids) for site in ctx.state.tenant.sites}
    body = cursor_body(ctx, page_of(ctx, humans, CAPS["org"][0]), lambda a: render_org_user(ctx, a, members))
    return JSONResponse({**body, "meta": {"total": len(humans)}})


# --- events --------------------------------------------------------------------------------------


def event_objects(ctx: AdminContext, event: OrgEvent) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The event's ``context`` and ``container``: an app action names the app and its site [I]."""
    org = {"id": ctx.org.org_id, "type": "orgs", "attributes": {}, "links": {"self": ctx.org_url()}}
    if event.app_key is None:
        user = {
            "id": event.context_id,
            "type": "users",
            "attributes": {},
            "links": {"self": ctx.url(f"/users/{event.context_id}/manage/profile")},
        }
        return [user], [org]
    app = {"id": event.app_key, "type": "apps", "attributes": {"name": event.app_name}, "links": {}}
    site = {
        "id": event.site_cloud_id,
        "type": "sites",
        "attributes": {"siteName": f"{event.site_name}.atlassian.net"},
        "links": {},
    }
    return [app], [org, site]


def render_event(ctx: AdminContext, event: OrgEvent) -> dict[str, Any]:
    actor = ctx.state.tenant.accounts.get(event.actor_account_id)
    context, container = event_objects(ctx, event)
    return {
        "id": event.event_id,
        "type": "events",
        "attributes": {
            "time": iso_ms(event.time_ms),
            "action": event.action,
            "actor": {
                "id": event.actor_account_id,
                "name": actor.display_name if actor else None,
                "email": actor.email if actor else None,
                "links": {"self": ctx.url(f"/users/{event.actor_account_id}/manage/profile")},
            },
            "context": context,
            "container": container,
            "location": {"ip": event.ip},
        },
        "links": {"self": ctx.org_url(f"/events/{event.event_id}")},
        "message": {"content": event.message, "format": "simple"},
    }


def filtered_events(ctx: AdminContext) -> list[OrgEvent]:
    """Events newest first [I], narrowed by ``from``/``to`` (epoch ms, inclusive) and ``action``."""
    start = int_param(ctx.params, "from", 0, largest=EPOCH_MS_MAX)
    end = int_param(ctx.params, "to", EPOCH_MS_MAX, largest=EPOCH_MS_MAX)
    action = ctx.params.get("action")
    return [e for e in reversed(ctx.org.events) if start <= e.time_ms <= end and action in (None, e.action)]


@admin_endpoint
async def list_events(ctx: AdminContext) -> Response:
    """GET /admin/v1/orgs/{orgId}/events: 10 requests a minute per key and path, then 429."""
    wait = ctx.state.org_events_limiter.acquire(f"{ctx.api_key} {ctx.request.url.path}")
    if wait is not None:
        raise ApiError(
            429,
            "Rate limit exceeded",
            headers={"Retry-After": str(wait), "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"},
        )
    size = page_size(ctx, "org/events")
    page = page_of(ctx, filtered_events(ctx), size)
    body = cursor_body(ctx, page, lambda e: render_event(ctx, e))
    return JSONResponse({**body, "meta": {"next": page.next_cursor, "page_size": size}})


@admin_endpoint
async def get_event(ctx: AdminContext) -> Response:
    """GET /admin/v1/orgs/{orgId}/events/{eventId}."""
    wanted = ctx.request.path_params["event_id"]
    event = next((e for e in ctx.org.events if e.event_id == wanted), None)
    if event is None:
        raise ApiError(404, "Event not found")
    return JSONResponse({"data": render_event(ctx, event)})


@admin_endpoint
async def list_event_actions(ctx: AdminContext) -> Response:
    """GET /admin/v1/orgs/{orgId}/event-actions: the actions the organization's events use, and
    every "App actions" one (``tenant.org_audit``)."""
    actions = sorted({e.action for e in ctx.org.events} | set(APP_ACTIONS))
    return JSONResponse(
        {
            "data": [
                {
                    "id": action,
                    "type": "event-actions",
                    "attributes": {
                        "displayName": APP_ACTIONS.get(action, action.replace("_", " ").capitalize()),
                        "groupDisplayName": APP_ACTIONS_GROUP
                        if action in APP_ACTIONS
                        else ACTION_GROUPS.get(action.split("_")[0], "Other"),
                    },
                }
                for action in actions
            ]
        }
    )


# --- API tokens ----------------------------------------------------------------------------------


def managed_account(ctx: AdminContext) -> Account:
    """The path's account: 404 if unknown, 403 unless a managed human of this organization."""
    account = ctx.state.tenant.accounts.get(ctx.request.path_params["account_id"])
    if account is None:
        raise ApiError(404, "User not found")
    if account.account_type != "atlassian" or not account.managed:
        raise ApiError(403, NO_PERMISSION)
    return account


def live_tokens(account: Account) -> list[ApiToken]:
    return [t for t in account.api_tokens if not t.revoked]


@admin_endpoint
async def list_user_tokens(ctx: AdminContext) -> Response:
    """GET /users/{accountId}/manage/api-tokens: a bare array; expired tokens stay listed [I]."""
    return JSONResponse(
        [
            {
                "id": t.token_id,
                "label": t.label,
                "createdAt": iso_ms(t.created_ms),
                "lastAccess": iso_ms(t.last_access_ms),
                "expiry": iso_ms(t.expires_ms),
            }
            for t in live_tokens(managed_account(ctx))
        ]
    )


@admin_endpoint
async def revoke_user_token(ctx: AdminContext) -> Response:
    """DELETE /users/{accountId}/manage/api-tokens/{tokenId}: 204; Basic auth with it fails from now on."""
    account = managed_account(ctx)
    token_id = ctx.request.path_params["token_id"]
    if not any(t.token_id == token_id for t in live_tokens(account)):
        raise ApiError(404, "API token not found")
    ctx.state.apply("revoke_api_token", {"account_id": account.account_id, "token_id": token_id})
    return Response(status_code=204)


def _revoke_api_token(state: SimState, args: dict[str, Any]) -> None:
    for token in state.tenant.accounts[args["account_id"]].api_tokens:
        if token.token_id == args["token_id"]:
            token.revoked = True


def render_org_token(ctx: AdminContext, pair: tuple[Account, ApiToken]) -> dict[str, Any]:
    account, token = pair
    now_ms = int(ctx.state.clock.time() * 1000)
    return {
        "id": token.token_id,
        "label": token.label,
        "status": "ALLOWED" if token.expires_ms >= now_ms else "EXPIRED",  # [I] for expired tokens
        "createdAt": iso_ms(token.created_ms),
        "expiresAt": iso_ms(token.expires_ms),
        "lastActiveAt": iso_ms(token.last_access_ms),
        "user": {
            "id": account.account_id,
            "orgId": ctx.org.org_id,
            "name": account.display_name,
            "email": account.email,
        },
        "scopes": [],  # classic tokens are unscoped
    }


@admin_endpoint
async def list_org_tokens(ctx: AdminContext) -> Response:
    """GET /admin/api-access/v1/orgs/{orgId}/api-tokens: every managed user's live API token."""
    pairs = [(a, t) for a in managed_humans(ctx.state) for t in live_tokens(a)]
    page = page_of(ctx, pairs, page_size(ctx, "org"))
    return JSONResponse(cursor_body(ctx, page, lambda p: render_org_token(ctx, p)))


# --- API keys ------------------------------------------------------------------------------------


def render_org_key(ctx: AdminContext, key: OrgApiKey) -> dict[str, Any]:
    """Atlassian API Access API (Experimental), api-keys: the field names are Atlassian's; the
    ``resource``/``targetResources`` values are the simulator's choice [I]."""
    creator = ctx.state.tenant.accounts.get(key.created_by)
    resource = f"ari:cloud:platform::org/{ctx.org.org_id}"
    return {
        "id": key.key_id,
        "label": key.label,
        "createdAt": iso_ms(key.created_ms),
        "expiresAt": iso_ms(key.expires_ms),
        "lastActiveAt": iso_ms(key.last_active_ms),
        "systemAccountId": key.system_account_id,
        "resource": resource,
        "orgId": ctx.org.org_id,
        "createdBy": {
            "id": key.created_by,
            "name": creator.display_name if creator else None,
            "email": creator.email if creator else None,
        },
        "scopes": key.scopes,
        "targetResources": [resource],
    }


@admin_endpoint
async def list_org_keys(ctx: AdminContext) -> Response:
    """GET /admin/api-access/v1/orgs/{orgId}/api-keys: every API key of the organization, expired too."""
    page = page_of(ctx, ctx.org.api_keys, page_size(ctx, "org"))
    return JSONResponse(cursor_body(ctx, page, lambda k: render_org_key(ctx, k)))


@admin_endpoint
async def count_org_keys(ctx: AdminContext) -> Response:
    """GET /admin/api-access/v1/orgs/{orgId}/api-keys/count: ``{"count": n}`` [I]."""
    return JSONResponse({"count": len(ctx.org.api_keys)})


# journaled mutations by name: fn(state, args) -> result (see SimState.apply)
OPERATIONS: dict[str, Callable[[SimState, dict[str, Any]], Any]] = {"revoke_api_token": _revoke_api_token}

ROUTES: list[BaseRoute] = [
    Route("/admin/v1/orgs", list_orgs),
    Route(ORG, get_org),
    Route(f"{ORG}/users", list_users),
    Route(f"{ORG}/domains", list_domains),
    Route(f"{ORG}/domains/{{domain_id}}", get_domain),
    Route(f"{ORG}/events", list_events),
    Route(f"{ORG}/events/{{event_id}}", get_event),
    Route(f"{ORG}/event-actions", list_event_actions),
    Route("/users/{account_id}/manage/api-tokens", list_user_tokens),
    Route("/users/{account_id}/manage/api-tokens/{token_id}", revoke_user_token, methods=["DELETE"]),
    Route("/admin/api-access/v1/orgs/{org_id}/api-tokens", list_org_tokens),
    Route("/admin/api-access/v1/orgs/{org_id}/api-keys", list_org_keys),
    Route("/admin/api-access/v1/orgs/{org_id}/api-keys/count", count_org_keys),
]
