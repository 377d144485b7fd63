"""Confluence Cloud REST API v1 on a site (``/wiki/rest/api``) and through the gateway.

The gateway also answers without ``/wiki`` (``/ex/confluence/{cloudId}/rest/api/...``), which is
what ``GATEWAY_ROUTES`` adds. Each handler carries its requirement from references §1.7 and §5;
choices where the facts are inferred are written down in docs/simulator/confluence-marketplace.md.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Sequence
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.endpoint import Requirement, SiteContext, site_endpoint
from appgov_sim.http import ApiError, JSONResponse, bool_param, int_param
from appgov_sim.paging import confluence_links, page_params, window
from appgov_sim.tenant.model import Account, AuditRecord, Group

CONFIGURATION = Requirement(
    "confluence", "manage:confluence-configuration", ("read:configuration:confluence",)
)
LOOK_AND_FEEL = Requirement(
    "confluence",
    "manage:confluence-configuration",
    ("read:configuration:confluence", "read:space.setting:confluence"),
)
GROUPS = Requirement("confluence", "read:confluence-groups", ("read:group:confluence",))
MEMBERS = Requirement(
    "confluence", "read:confluence-groups", ("read:group:confluence", "read:user:confluence")
)
AUDIT = Requirement(
    "confluence",
    None,
    ("read:audit-log:confluence",),
    admin=True,
    admin_message="Only Confluence administrators can view the audit log.",
)

# accessType of GET /group: which groups grant that level of access [I]
ACCESS_GROUPS = {
    "site-admin": ("site-admins",),
    "admin": ("site-admins", "confluence-admins"),
    "user": ("site-admins", "confluence-admins", "confluence-users"),
}
# audit/since units, in milliseconds; MONTHS and YEARS are calendar approximations [I]
UNIT_MS = {
    "MILLISECONDS": 1,
    "SECONDS": 1_000,
    "MINUTES": 60_000,
    "HOURS": 3_600_000,
    "DAYS": 86_400_000,
    "WEEKS": 7 * 86_400_000,
    "MONTHS": 30 * 86_400_000,
    "YEARS": 365 * 86_400_000,
}
RETENTION_NUMBER, RETENTION_UNITS = 3, "MONTHS"  # [I] the documented default
AVATAR = "/wiki/aa-avatar/default.png"


# --- shapes -----------------------------------------------------------------------------------


def api_path(ctx: SiteContext) -> str:
    """The path relative to ``/wiki`` (``_links`` are relative to a base that ends in ``/wiki``)."""
    return ctx.path.removeprefix("/wiki")


def wiki_url(ctx: SiteContext, path: str) -> str:
    return f"{ctx.base}/wiki{path}"


def confluence_page(
    ctx: SiteContext,
    items: Sequence[Any],
    cap_key: str,
    render: Callable[[Any], dict[str, Any]],
    with_total: bool = False,
) -> JSONResponse:
    """One v1 page: ``results``/``start``/``limit``/``size`` and ``_links.next`` while more remain."""
    start, limit = page_params(ctx.params, cap_key, "start", "limit")
    win = window(items, start, limit, ctx.quirks)
    body: dict[str, Any] = {
        "results": [render(item) for item in win.items],
        "start": win.start,
        "limit": win.size,
        "size": len(win.items),
    }
    if with_total:
        body["totalSize"] = win.total
    body["_links"] = confluence_links(ctx.base, api_path(ctx), ctx.params, win)
    return JSONResponse(body)


def render_group(ctx: SiteContext, group: Group) -> dict[str, Any]:
    return {
        "type": "group",
        "name": group.name,
        "id": group.group_id,
        "usageType": group.usage_type,
        "managedBy": group.managed_by,
        "resourceAri": f"ari:cloud:identity::group/{group.group_id}",
        "_links": {"self": wiki_url(ctx, f"/rest/api/group/by-id?id={group.group_id}")},
    }


def render_user(ctx: SiteContext, account: Account, expand: set[str]) -> dict[str, Any]:
    """Confluence's ``User``: email only for people, never for app (bot) accounts."""
    body: dict[str, Any] = {
        "type": "known",
        "accountId": account.account_id,
        "accountType": account.account_type,
        "email": account.email if account.account_type != "app" else "",
        "publicName": account.display_name,
        "profilePicture": {"path": AVATAR, "width": 48, "height": 48, "isDefault": True},
        "displayName": account.display_name,
        "timeZone": account.time_zone,
        "isExternalCollaborator": False,
        "isGuest": False,
    }
    if "operations" in expand:
        body["operations"] = [{"operation": "use", "targetType": "application"}]
    body["_expandable"] = {k: "" for k in ("operations", "personalSpace") if k not in expand}
    body["_links"] = {"self": wiki_url(ctx, f"/rest/api/user?accountId={account.account_id}")}
    return body


def audit_author(ctx: SiteContext, account_id: str) -> dict[str, Any]:
    account = ctx.state.tenant.accounts.get(account_id)
    name = account.display_name if account else "Unknown user"
    return {
        "type": "user",
        "displayName": name,
        "accountId": account_id,
        "accountType": account.account_type if account else "unknown",
        "publicName": name,
        "isExternalCollaborator": False,
        "isGuest": False,
        "operations": None,
    }


def changed(name: str, old: str, new: str) -> dict[str, str]:
    return {"name": name, "oldValue": old, "hiddenOldValue": "", "newValue": new, "hiddenNewValue": ""}


def named(name: str, object_type: str) -> dict[str, str]:
    return {"name": name, "objectType": object_type}


APP_SUMMARIES = {
    "app_installed": "App installed",
    "app_upgraded": "App upgraded",
    "app_disabled": "App disabled",
    "app_uninstalled": "App uninstalled",
    "oauth_authorized": "OAuth 2.0 app authorized",
}


def audit_event(record: AuditRecord) -> tuple[str, str, dict[str, str], list[Any], list[Any]]:
    """(summary, category, affectedObject, changedValues, associatedObjects) for one record's kind."""
    kind = record.kind
    if kind in APP_SUMMARIES:
        # the app key rides in associatedObjects so a client can join the plugin manager's key
        version = [changed("Version", record.extra, record.detail)] if record.detail else []
        key = [named(record.object_id, "App key")]
        return APP_SUMMARIES[kind], "Apps", named(record.object_name, "App"), version, key
    if kind == "group_created":
        return "Group created", "Users and groups", named(record.object_name, "Group"), [], []
    if kind == "member_added":
        user = [named(record.object_name, "User")]
        return "User added to group", "Users and groups", named(record.detail, "Group"), [], user
    if kind == "user_created":
        return "User created", "Users and groups", named(record.object_name, "User"), [], []
    if kind == "permission_changed":
        group = [changed("Group", "", record.detail)]
        return "Global permission granted", "Permissions", named(record.object_name, "User"), group, []
    return kind.replace("_", " ").capitalize(), "Other", named(record.object_name, ""), [], []


def audit_facts(record: AuditRecord) -> dict[str, Any]:
    """What a record says, as rendered: everything but its author and the flags about the author,
    which Confluence renders as they are when the log is read."""
    summary, category, affected, values, associated = audit_event(record)
    return {
        "remoteAddress": record.remote_address,
        "creationDate": record.created_ms,
        "summary": summary,
        "description": "",
        "category": category,
        "affectedObject": affected,
        "changedValues": values,
        "associatedObjects": associated,
    }


def render_audit(ctx: SiteContext, record: AuditRecord, is_admin: Callable[[str], bool]) -> dict[str, Any]:
    return {
        "author": audit_author(ctx, record.author_account_id),
        **audit_facts(record),
        "sysAdmin": is_admin(record.author_account_id),
        "superAdmin": False,
    }


def look_and_feel() -> dict[str, Any]:
    white, blue, navy = "#FFFFFF", "#0052CC", "#0747A6"
    hover = {"backgroundColor": "#0065FF", "color": white}
    return {
        "headings": {"color": "#172B4D"},
        "links": {"color": blue},
        "menus": {"hoverOrFocus": {"backgroundColor": "#DEEBFF"}, "color": "#42526E"},
        "header": {
            "backgroundColor": navy,
            "button": {"backgroundColor": blue, "color": white},
            "primaryNavigation": {"color": white, "hoverOrFocus": hover},
            "secondaryNavigation": {"color": white, "hoverOrFocus": hover},
            "search": {"backgroundColor": "#0065FF", "color": white},
        },
        "horizontalHeader": {"backgroundColor": white, "primaryNavigation": {"highlightColor": blue}},
        "content": {
            "screen": {"background": white},
            "container": {"background": white, "padding": "0", "borderRadius": "0"},
            "header": {"background": white},
            "body": {"background": white},
        },
        "bordersAndDividers": {"color": "#DFE1E6"},
        "spaceReference": {},
    }


THEMES = (
    ("com.atlassian.confluence.themes.default:default", "Default Theme", "The default Confluence theme."),
    ("com.atlassian.confluence.themes.documentation:documentation", "Documentation Theme", "A sidebar."),
    ("com.atlassian.confluence.plugins.confluence-space-ia:spaceia", "Space IA", "Sidebar navigation."),
)


def render_theme(ctx: SiteContext, theme: tuple[str, str, str]) -> dict[str, Any]:
    key, name, description = theme
    return {
        "themeKey": key,
        "name": name,
        "description": description,
        "icon": {"path": "/wiki/images/theme-icon.png", "width": 110, "height": 73, "isDefault": False},
        "_links": {"self": wiki_url(ctx, f"/rest/api/settings/theme/{key}")},
    }


# --- handlers ---------------------------------------------------------------------------------


@site_endpoint(CONFIGURATION)
async def system_info(ctx: SiteContext) -> Response:
    """GET settings/systemInfo: the site's own URL, whichever host it was called on."""
    wiki = f"{ctx.state.site_base(ctx.site)}/wiki"
    return JSONResponse(
        {
            "cloudId": ctx.site.cloud_id,
            "commitHash": "a1b2c3d4e5f60718",
            "baseUrl": wiki,
            "fallbackBaseUrl": wiki,
            "edition": ctx.site.edition,
            "siteTitle": ctx.site.title,
            "defaultLocale": "en_GB",
            "defaultTimeZone": "Europe/London",
            "microsPerimeter": "commercial",
        }
    )


@site_endpoint(LOOK_AND_FEEL)
async def look_and_feel_settings(ctx: SiteContext) -> Response:
    """GET settings/lookandfeel: no custom look and feel anywhere, so ``spaceKey`` changes nothing."""
    return JSONResponse({"selected": "global", "global": look_and_feel(), "custom": look_and_feel()})


@site_endpoint(CONFIGURATION)
async def themes(ctx: SiteContext) -> Response:
    return confluence_page(ctx, THEMES, "confluence/theme", lambda t: render_theme(ctx, t))


@site_endpoint(CONFIGURATION)
async def selected_theme(ctx: SiteContext) -> Response:
    return JSONResponse(render_theme(ctx, THEMES[0]))


@site_endpoint(GROUPS)
async def groups(ctx: SiteContext) -> Response:
    """GET group: every group, or with ``accessType`` those that grant that access."""
    access = ctx.params.get("accessType")
    chosen = ctx.site.groups
    if access is not None:
        if access not in ACCESS_GROUPS:
            raise ApiError(
                400, f"Invalid accessType: {access[:100]}. Expected one of user, admin, site-admin"
            )
        chosen = [g for g in chosen if g.name in ACCESS_GROUPS[access]]
    return confluence_page(ctx, chosen, "confluence/group", lambda g: render_group(ctx, g))


@site_endpoint(GROUPS)
async def group_by_id(ctx: SiteContext) -> Response:
    group_id = ctx.params.get("id")
    if not group_id:
        raise ApiError(400, "The id query parameter is required.")
    return JSONResponse(render_group(ctx, find_group(ctx, group_id, by_id=True)))


@site_endpoint(GROUPS)
async def group_picker(ctx: SiteContext) -> Response:
    """GET group/picker: groups whose name contains ``query`` (case-insensitive)."""
    query = ctx.params.get("query", "").lower()
    matching = [g for g in ctx.site.groups if query in g.name.lower()]
    with_total = bool_param(ctx.params, "shouldReturnTotalSize", False)
    return confluence_page(ctx, matching, "confluence/group", lambda g: render_group(ctx, g), with_total)


def find_group(ctx: SiteContext, value: str, *, by_id: bool) -> Group:
    group = ctx.site.group_by_id(value) if by_id else ctx.site.group_by_name(value)
    if group is None:
        what = "id" if by_id else "name"
        raise ApiError(404, f"No group found with {what} : {value[:100]}")
    return group


def members_page(ctx: SiteContext, group: Group) -> JSONResponse:
    accounts = ctx.state.tenant.accounts
    expand = {e.strip() for e in ctx.params.get("expand", "").split(",") if e.strip()}
    with_total = bool_param(ctx.params, "shouldReturnTotalSize", False)
    return confluence_page(
        ctx, group.members, "confluence/members", lambda m: render_user(ctx, accounts[m], expand), with_total
    )


@site_endpoint(MEMBERS)
async def members_by_group_id(ctx: SiteContext) -> Response:
    """GET group/{groupId}/membersByGroupId: inactive members included, as the ground truth counts."""
    return members_page(ctx, find_group(ctx, ctx.request.path_params["group_id"], by_id=True))


@site_endpoint(MEMBERS)
async def members_by_name_in_path(ctx: SiteContext) -> Response:
    """GET group/{groupName}/member: the deprecated path older clients still call."""
    return members_page(ctx, find_group(ctx, ctx.request.path_params["group_name"], by_id=False))


@site_endpoint(MEMBERS)
async def members_by_name_in_query(ctx: SiteContext) -> Response:
    """GET group/member?name=: the deprecated form atlassian-python-api calls."""
    name = ctx.params.get("name")
    if not name:
        raise ApiError(400, "The name query parameter is required.")
    return members_page(ctx, find_group(ctx, name, by_id=False))


def epoch_ms_param(ctx: SiteContext, name: str) -> int | None:
    if ctx.params.get(name) in (None, ""):
        return None
    return int_param(ctx.params, name, 0, largest=2**63 - 1)


def audit_page(ctx: SiteContext, since_ms: int | None, until_ms: int | None) -> JSONResponse:
    """Audit records newest first, between the bounds (inclusive) and matching ``searchString``."""
    search = ctx.params.get("searchString", "").lower()
    records = ctx.state.tenant.switches.served_audit(
        audit_between(ctx.site.confluence_audit, since_ms, until_ms)
    )
    if search:
        records = [r for r in records if search in audit_text(r)]
    is_admin = functools.cache(ctx.site.is_admin)  # a page has few distinct authors
    return confluence_page(ctx, records, "confluence/audit", lambda r: render_audit(ctx, r, is_admin))


def audit_between(log: list[AuditRecord], since_ms: int | None, until_ms: int | None) -> list[AuditRecord]:
    """The log is oldest first, so the bounds are found by bisection rather than a scan."""
    low = 0 if since_ms is None else bisect.bisect_left(log, since_ms, key=created)
    high = len(log) if until_ms is None else bisect.bisect_right(log, until_ms, key=created)
    return log[low:high][::-1]


def created(record: AuditRecord) -> int:
    return record.created_ms


def audit_text(record: AuditRecord) -> str:
    """What ``searchString`` looks in: summary, category and the names involved [I]."""
    summary, category, affected, values, associated = audit_event(record)
    parts = [summary, category, affected["name"], *(v["newValue"] for v in values)]
    parts += [a["name"] for a in associated]
    return " ".join(parts).lower()


@site_endpoint(AUDIT)
async def audit(ctx: SiteContext) -> Response:
    """GET audit: ``startDate``/``endDate`` are epoch milliseconds."""
    return audit_page(ctx, epoch_ms_param(ctx, "startDate"), epoch_ms_param(ctx, "endDate"))


@site_endpoint(AUDIT)
async def audit_since(ctx: SiteContext) -> Response:
    """GET audit/since: the last ``number`` ``units`` before now (default: the retention period)."""
    number = int_param(ctx.params, "number", RETENTION_NUMBER)
    units = ctx.params.get("units", RETENTION_UNITS).upper()
    if units not in UNIT_MS:
        raise ApiError(400, f"Invalid units: {units[:100]}. Expected one of {', '.join(UNIT_MS)}")
    now_ms = int(ctx.state.clock.time() * 1000)
    return audit_page(ctx, now_ms - number * UNIT_MS[units], None)


@site_endpoint(AUDIT)
async def audit_retention(ctx: SiteContext) -> Response:
    return JSONResponse({"number": RETENTION_NUMBER, "units": RETENTION_UNITS})


def routes(api: str) -> list[BaseRoute]:
    """The v1 routes under one API prefix (``/wiki/rest/api`` or the gateway's ``/rest/api``)."""
    return [
        Route(f"{api}/settings/systemInfo", system_info),
        Route(f"{api}/settings/lookandfeel", look_and_feel_settings),
        Route(f"{api}/settings/theme", themes),
        Route(f"{api}/settings/theme/selected", selected_theme),
        Route(f"{api}/group", groups),
        Route(f"{api}/group/by-id", group_by_id),
        Route(f"{api}/group/picker", group_picker),
        Route(f"{api}/group/member", members_by_name_in_query),
        Route(f"{api}/group/{{group_id}}/membersByGroupId", members_by_group_id),
        Route(f"{api}/group/{{group_name}}/member", members_by_name_in_path),
        Route(f"{api}/audit", audit),
        Route(f"{api}/audit/since", audit_since),
        Route(f"{api}/audit/retention", audit_retention),
    ]


ROUTES: list[BaseRoute] = routes("/wiki/rest/api")
GATEWAY_ROUTES: list[BaseRoute] = routes("/rest/api")
