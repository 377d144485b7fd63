"""The organization admin API (``https://api.atlassian.com``, references §6 and §6.1), read with an
organization API key as a bearer token: the organization the key belongs to, the "App actions" of
its audit log (named through ``event-actions``, as Atlassian publishes no action ids: audit-events
§1), its managed accounts' API tokens and its own API keys (metadata only). Every call goes through
``AtlassianClient`` (the one retry policy: a 429 on the events list, limited to 10 requests a
minute, is waited out after its ``Retry-After``, or the read is deferred) and every list through
the one page loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appgov.clock import Clock
from appgov.connectors.atlassian.client import AtlassianClient, AtlassianError
from appgov.connectors.atlassian.grants import BearerToken
from appgov.connectors.atlassian.pagination import LinksNext
from appgov.connectors.atlassian.probe import VALIDATION_POLICY
from appgov.connectors.base import DomainError, Reply
from appgov.connectors.paging import Cursor, pages, start
from appgov.connectors.retry import RetryPolicy

ORGS = "/admin/v1/orgs"
EVENTS_PAGE = 100  # the events list's largest page: fewer requests against its 10 a minute
# the "App actions" kept, by display name (audit-events §1, verbatim; the older crawl's misspelling too)
APP_ACTIONS = {
    "App successful installation": "install",
    "App successful uninstallation": "uninstall",
    "App enable success": "enable",
    "App disable success": "disable",
    "App update success": "update",
    "App auto updated failed (permission required)": "auto_update_failed",
    "App audit updated failed (permission required)": "auto_update_failed",
}


class OrgKeyRejected(AtlassianError):
    """The organization API key no longer works (401/403)."""


@dataclass(frozen=True)
class OrgProbe:
    org_id: str
    name: str


@dataclass(frozen=True)
class AppAction:
    """One "App actions" event: who did what to which app on which site, and when."""

    event_id: str
    action: str
    kind: str  # install | uninstall | enable | disable | update | auto_update_failed
    display_name: str
    app_key: str
    app_name: str | None
    site_id: str | None
    site_name: str | None
    actor_account_id: str
    actor_name: str | None
    at: datetime


@dataclass(frozen=True)
class OrgToken:
    token_id: str
    label: str
    status: str | None
    owner_account_id: str
    owner_name: str | None
    owner_email: str | None
    created_at: datetime | None
    last_active_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class OrgKey:
    """An organization API key as the API Access API (Experimental) lists it: never its secret."""

    key_id: str
    label: str
    created_by_id: str | None
    created_by_name: str | None
    created_by_email: str | None
    created_at: datetime | None
    expires_at: datetime | None
    last_active_at: datetime | None
    scopes: list[str]


def admin_client(
    admin_url: str,
    api_key: str,
    verify: str | bool,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
) -> AtlassianClient:
    """One request at a time: the events list allows 10 a minute."""
    return AtlassianClient(
        admin_url, BearerToken(api_key), policy=policy, clock=clock, verify=verify, concurrency=1, timeout=30
    )


def _refused(reply: Reply) -> None:
    if reply.status in (401, 403):
        raise OrgKeyRejected(
            "Atlassian refused the organization API key: it is invalid, expired or revoked, or lacks "
            "the permission to read the organization",
            reply.status,
            reply.url,
        )
    if reply.status >= 300:
        raise AtlassianError(
            f"the organization admin API answered HTTP {reply.status}", reply.status, reply.url
        )


async def probe_org(admin_url: str, api_key: str, verify: str | bool) -> OrgProbe:
    """The organization the key belongs to (its id and name); a refused key is a ``DomainError``."""
    async with admin_client(admin_url, api_key, verify, policy=VALIDATION_POLICY) as client:
        try:
            reply = await client.get(ORGS)
            _refused(reply)
        except AtlassianError as err:
            raise DomainError(
                str(err) if isinstance(err, OrgKeyRejected) else f"{admin_url}: {err}"
            ) from None
    orgs = (reply.data or {}).get("data") if isinstance(reply.data, dict) else None
    if not isinstance(orgs, list) or not orgs or not isinstance(orgs[0], dict) or not orgs[0].get("id"):
        raise DomainError("the organization API key belongs to no organization")
    attributes = orgs[0].get("attributes") or {}
    return OrgProbe(str(orgs[0]["id"]), str(attributes.get("name") or orgs[0]["id"]))


async def action_names(client: AtlassianClient, org_id: str) -> dict[str, str]:
    """Action id -> display name, from ``event-actions``."""
    reply = await client.get(f"{ORGS}/{org_id}/event-actions")
    _refused(reply)
    return {
        str(a["id"]): str((a.get("attributes") or {}).get("displayName") or a["id"])
        for a in (reply.data or {}).get("data") or []
        if isinstance(a, dict) and a.get("id")
    }


def events_from(org_id: str, from_ms: int) -> Cursor:
    """The events list from ``from_ms`` (epoch ms, inclusive), newest first."""
    return start(f"{ORGS}/{org_id}/events", {"from": from_ms, "limit": EVENTS_PAGE})


async def event_pages(
    client: AtlassianClient, cursor: Cursor
) -> AsyncIterator[tuple[list[Any], Cursor | None]]:
    """Each page's events and the cursor of the page after it (None at the end)."""
    async for page, reply in pages(client, LinksNext(), cursor):
        _refused(reply)
        yield page.items, page.next


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def event_time(event: Any) -> datetime | None:
    """When the event happened (``attributes.time``), any action."""
    attributes = event.get("attributes") if isinstance(event, dict) else None
    return _time(attributes.get("time")) if isinstance(attributes, dict) else None


def _of_type(objects: Any, kind: str) -> dict[str, Any] | None:
    return next((o for o in objects or [] if isinstance(o, dict) and o.get("type") == kind), None)


def app_action(event: Any, names: dict[str, str]) -> AppAction | None:
    """The event as an app action, or None when it is none of the kept ones. The app is the
    ``context`` object of type ``apps`` and the site the ``container`` of type ``sites`` [U]."""
    attributes = event.get("attributes") if isinstance(event, dict) else None
    if not isinstance(attributes, dict):
        return None
    action = str(attributes.get("action") or "")
    display = names.get(action, action)
    kind = APP_ACTIONS.get(display)
    app = _of_type(attributes.get("context"), "apps")
    at = _time(attributes.get("time"))
    if kind is None or app is None or not app.get("id") or at is None:
        return None
    site = _of_type(attributes.get("container"), "sites") or {}
    actor = attributes.get("actor") or {}
    return AppAction(
        str(event.get("id")),
        action,
        kind,
        display,
        str(app["id"]),
        (app.get("attributes") or {}).get("name"),
        str(site["id"]) if site.get("id") else None,
        (site.get("attributes") or {}).get("siteName"),
        str(actor.get("id") or ""),
        actor.get("name"),
        at,
    )


async def _api_access(client: AtlassianClient, org_id: str, kind: str) -> AsyncIterator[dict[str, Any]]:
    """Every item of an API Access API list (``/admin/api-access/v1/orgs/{orgId}/{kind}``)."""
    async for page, reply in pages(client, LinksNext(), start(f"/admin/api-access/v1/orgs/{org_id}/{kind}")):
        _refused(reply)
        for item in page.items:
            if isinstance(item, dict) and item.get("id"):
                yield item


async def org_tokens(client: AtlassianClient, org_id: str) -> list[OrgToken]:
    """Every managed account's API token (``/admin/api-access/v1/orgs/{orgId}/api-tokens``)."""
    found = []
    async for item in _api_access(client, org_id, "api-tokens"):
        user = item.get("user") or {}
        if not user.get("id"):
            continue
        found.append(
            OrgToken(
                str(item["id"]),
                str(item.get("label") or ""),
                item.get("status"),
                str(user["id"]),
                user.get("name"),
                user.get("email"),
                _time(item.get("createdAt")),
                _time(item.get("lastActiveAt")),
                _time(item.get("expiresAt")),
            )
        )
    return found


async def org_keys(client: AtlassianClient, org_id: str) -> list[OrgKey]:
    """The organization's API keys (``/admin/api-access/v1/orgs/{orgId}/api-keys``), with who
    created each."""
    found = []
    async for item in _api_access(client, org_id, "api-keys"):
        creator = item.get("createdBy")
        creator = creator if isinstance(creator, dict) else {}
        scopes = item.get("scopes")
        scopes = scopes if isinstance(scopes, list) else []
        found.append(
            OrgKey(
                str(item["id"]),
                str(item.get("label") or ""),
                str(creator["id"]) if creator.get("id") else None,
                creator.get("name"),
                creator.get("email"),
                _time(item.get("createdAt")),
                _time(item.get("expiresAt")),
                _time(item.get("lastActiveAt")),
                [str(scope) for scope in scopes],
            )
        )
    return found
