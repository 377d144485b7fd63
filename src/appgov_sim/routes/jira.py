"""Jira Cloud platform REST API v3 (and the v2/latest paths the popular clients call) on a site.

Each handler carries its requirement (scopes, admin, anonymous) beside it, from references §1.7/§4
and the operation's ``x-atlassian-oauth2-scopes`` in Atlassian's OpenAPI. The choices made where
the facts are inferred are written down in ``docs/simulator/jira.md``.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.endpoint import Requirement, SiteContext, site_endpoint
from appgov_sim.http import ApiError, JSONResponse, bool_param, int_param
from appgov_sim.paging import page_bean, page_params, window
from appgov_sim.tenant import catalog
from appgov_sim.tenant.model import (
    Account,
    ApplicationRole,
    AuditRecord,
    Field,
    Group,
    PermissionGrant,
    PermissionScheme,
    Project,
    ProjectRole,
    Site,
)

API = "/rest/api/{version:apiversion}"
BROWSE_USERS_DENIED = "Browse users and groups permission is required to view groups."

# The granular scope sets of the OpenAPI operations, shared by several endpoints.
USER_GRANULAR = ("read:application-role:jira", "read:group:jira", "read:user:jira", "read:avatar:jira")
PROJECT_GRANULAR = (
    "read:issue-type:jira",
    "read:project:jira",
    "read:project.property:jira",
    "read:user:jira",
    "read:application-role:jira",
    "read:avatar:jira",
    "read:group:jira",
    "read:issue-type-hierarchy:jira",
    "read:project-category:jira",
    "read:project-version:jira",
    "read:project.component:jira",
)
SCHEME_GRANULAR = (
    "read:application-role:jira",
    "read:field:jira",
    "read:group:jira",
    "read:permission-scheme:jira",
    "read:permission:jira",
    "read:project-role:jira",
    "read:user:jira",
    "read:avatar:jira",
    "read:project-category:jira",
    "read:project:jira",
)
ROLE_GRANULAR = (
    "read:user:jira",
    "read:group:jira",
    "read:project-role:jira",
    "read:project:jira",
    "read:avatar:jira",
    "read:project-category:jira",
)


# --- shapes shared by many endpoints --------------------------------------------------------------


def jira_time(ms: int) -> str:
    """Jira's timestamp format: ``2025-12-01T10:00:00.000+0000`` (``time`` beats ``datetime`` 2.5x)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(ms // 1000)) + f"{ms % 1000:03d}+0000"


def api_url(ctx: SiteContext, path: str) -> str:
    """An absolute link on the REST version the caller used (2, 3 or latest), as Jira answers."""
    scope = ctx.request.scope
    prefix = scope.get("sim.api_prefix")
    if prefix is None:  # once per request: pages render hundreds of links
        prefix = scope["sim.api_prefix"] = ctx.url(f"/rest/api/{ctx.request.path_params.get('version', '3')}")
    return f"{prefix}{path}"


AVATAR_BASE = "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/"


def avatar_urls(account_id: str) -> dict[str, str]:
    base = AVATAR_BASE + account_id
    return {
        "48x48": base + "/48x48.png",
        "24x24": base + "/24x24.png",
        "16x16": base + "/16x16.png",
        "32x32": base + "/32x32.png",
    }


def render_user_details(ctx: SiteContext, account: Account) -> dict[str, Any]:
    """Jira's ``UserDetails`` (group/member, legacy group): no locale, email hidden for apps."""
    body: dict[str, Any] = {
        "self": api_url(ctx, "/user?accountId=" + account.account_id),
        "accountId": account.account_id,
        "accountType": account.account_type,
    }
    if account.account_type != "app" and account.email:
        body["emailAddress"] = account.email
    body["avatarUrls"] = avatar_urls(account.account_id)
    body["displayName"] = account.display_name
    body["active"] = account.active
    body["timeZone"] = account.time_zone
    return body


def render_user(ctx: SiteContext, account: Account) -> dict[str, Any]:
    """Jira's ``User`` (users/search, user, myself): the details plus locale and an app's type."""
    body = render_user_details(ctx, account)
    body["locale"] = account.locale
    if account.app_type:
        body["appType"] = account.app_type
    return body


def render_group_name(ctx: SiteContext, group: Group) -> dict[str, Any]:
    return {
        "name": group.name,
        "groupId": group.group_id,
        "self": api_url(ctx, f"/group?groupId={group.group_id}"),
    }


def expansions(ctx: SiteContext) -> set[str]:
    return {part.strip() for part in str(ctx.params.get("expand", "")).split(",") if part.strip()}


def required_param(ctx: SiteContext, name: str, message: str) -> str:
    value = ctx.params.get(name)
    if not value:
        raise ApiError(400, message, errors={name: message})
    return str(value)


# --- who may see what -----------------------------------------------------------------------------


def has_product_access(site: Site, account_id: str) -> bool:
    """A member of any application role's group: a licensed Jira user."""
    role_groups = {gid for role in site.application_roles for gid in role.groups}
    return any(account_id in g.members for g in site.groups if g.group_id in role_groups)


def require_browse_users(ctx: SiteContext) -> None:
    """*Browse users and groups*: Jira grants it to every licensed user and to administrators [I]."""
    caller = ctx.account.account_id if ctx.account else ""
    if not (ctx.is_admin() or has_product_access(ctx.site, caller)):
        raise ApiError(403, BROWSE_USERS_DENIED)


def holder_includes(site: Site, project: Project, grant: PermissionGrant, account_id: str) -> bool:
    """Whether a permission scheme grant's holder covers an account in a project."""
    kind, parameter = grant.holder_type, grant.holder_parameter or ""
    if kind == "anyone":
        return True
    if kind == "projectLead":
        return project.lead_account_id == account_id
    if kind == "user":
        return parameter == account_id
    if kind == "group":
        group = site.group_by_name(parameter)
        return group is not None and account_id in group.members
    if kind == "applicationRole":
        role = next((r for r in site.application_roles if r.key == parameter), None)
        return role is not None and any(
            account_id in g.members for g in site.groups if g.group_id in role.groups
        )
    if kind == "projectRole" and parameter.isdigit():
        return actors_include(site, project.role_actors.get(int(parameter), []), account_id)
    return False


def actors_include(site: Site, actors: list[tuple[str, str]], account_id: str) -> bool:
    for kind, value in actors:
        if kind == "atlassian-user-role-actor" and value == account_id:
            return True
        if kind == "atlassian-group-role-actor":
            group = site.group_by_id(value)
            if group is not None and account_id in group.members:
                return True
    return False


def holds_project_permission(site: Site, project: Project, permission: str, account_id: str | None) -> bool:
    scheme = scheme_by_id(site, project.permission_scheme_id)
    if scheme is None:
        return False
    return any(
        g.permission == permission
        and (g.holder_type == "anyone" or (account_id and holder_includes(site, project, g, account_id)))
        for g in scheme.grants
    )


def can_view_project(ctx: SiteContext, project: Project) -> bool:
    """``action=view``: Browse or Administer Projects in the project, or Administer Jira."""
    if ctx.is_admin():
        return True
    caller = ctx.account.account_id if ctx.account else None
    return any(
        holds_project_permission(ctx.site, project, p, caller)
        for p in ("BROWSE_PROJECTS", "ADMINISTER_PROJECTS")
    )


def can_administer_project(ctx: SiteContext, project: Project) -> bool:
    caller = ctx.account.account_id if ctx.account else None
    return ctx.is_admin() or holds_project_permission(ctx.site, project, "ADMINISTER_PROJECTS", caller)


# --- lookups that answer Jira's 404 ---------------------------------------------------------------


def scheme_by_id(site: Site, scheme_id: int) -> PermissionScheme | None:
    return next((s for s in site.permission_schemes if s.scheme_id == scheme_id), None)


def find_project(ctx: SiteContext, id_or_key: str) -> Project:
    """A project the caller may view, by id or key (keys are case-insensitive in Jira)."""
    wanted = id_or_key.upper()
    project = next((p for p in ctx.site.projects if id_or_key == p.project_id or p.key == wanted), None)
    if project is None or not can_view_project(ctx, project):
        kind = "id" if id_or_key.isdigit() else "key"
        raise ApiError(404, f"No project could be found with {kind} '{id_or_key}'.")
    return project


def find_role(ctx: SiteContext, role_id: str) -> ProjectRole:
    role = next((r for r in ctx.site.project_roles if str(r.role_id) == role_id), None)
    if role is None:
        raise ApiError(404, f"The project role with id '{role_id}' does not exist.")
    return role


def find_group(ctx: SiteContext) -> Group:
    """The group of ``groupId`` (preferred) or ``groupname``: 400 if neither, 404 if unknown."""
    group_id, name = ctx.params.get("groupId"), ctx.params.get("groupname")
    if not group_id and not name:
        raise ApiError(400, "Either the group name or the group ID must be provided.")
    group = ctx.site.group_by_id(group_id) if group_id else ctx.site.group_by_name(name)
    if group is None:
        described = f"with id '{group_id}'" if group_id else f"named '{name}'"
        raise ApiError(404, f"The group {described} does not exist.")
    return group


def find_scheme(ctx: SiteContext) -> PermissionScheme:
    raw = ctx.request.path_params["scheme_id"]
    scheme = scheme_by_id(ctx.site, int(raw)) if raw.isdigit() else None
    if scheme is None:
        raise ApiError(404, f"The permission scheme with id '{raw}' does not exist.")
    return scheme


# --- server, myself, users ------------------------------------------------------------------------


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


def render_expanded_user(ctx: SiteContext, account: Account) -> dict[str, Any]:
    """``User`` with ``groups`` and ``applicationRoles``: sizes always, items only when expanded."""
    wanted = expansions(ctx)
    groups = [g for g in ctx.site.groups if account.account_id in g.members]
    member_of = {g.group_id for g in groups}
    roles = [r for r in ctx.site.application_roles if member_of & set(r.groups)]
    body = render_user(ctx, account)
    body["groups"] = {
        "size": len(groups),
        "items": [{"name": g.name, "groupId": g.group_id} for g in groups] if "groups" in wanted else [],
    }
    body["applicationRoles"] = {
        "size": len(roles),
        "items": [{"key": r.key, "name": r.name} for r in roles] if "applicationRoles" in wanted else [],
    }
    body["expand"] = "groups,applicationRoles"
    return body


@site_endpoint(Requirement("jira", "read:jira-user", USER_GRANULAR))
async def myself(ctx: SiteContext) -> Response:
    """GET /rest/api/3/myself?expand=groups,applicationRoles."""
    assert ctx.account is not None  # not anonymous: the pipeline has authenticated the caller
    return JSONResponse(render_expanded_user(ctx, ctx.account))


@site_endpoint(Requirement("jira", "read:jira-user", USER_GRANULAR))
async def user(ctx: SiteContext) -> Response:
    """GET /rest/api/3/user?accountId=: one user of the site's directory (Airbyte calls it per user)."""
    require_browse_users(ctx)
    account_id = required_param(ctx, "accountId", "The 'accountId' query parameter needs to be provided.")
    account = ctx.state.tenant.accounts.get(account_id)
    if account is None or account_id not in ctx.site.user_ids:
        raise ApiError(404, "Specified user does not exist or you do not have required permissions")
    return JSONResponse(render_expanded_user(ctx, account))


@site_endpoint(
    Requirement(
        "jira",
        "read:jira-user",
        ("read:user:jira", "read:application-role:jira", "read:avatar:jira", "read:group:jira"),
    )
)
async def users_search(ctx: SiteContext) -> Response:
    """GET /rest/api/3/users/search: a bare array; clients page until a short page."""
    require_browse_users(ctx)
    start, size = page_params(ctx.params, "users/search")
    win = window(ctx.site.user_ids, start, size, ctx.quirks)
    accounts = ctx.state.tenant.accounts
    return JSONResponse([render_user(ctx, accounts[i]) for i in win.items])


@site_endpoint(
    Requirement(
        "jira",
        "read:jira-user",
        (
            "read:user:jira",
            "read:user.property:jira",
            "read:application-role:jira",
            "read:avatar:jira",
            "read:group:jira",
        ),
    )
)
async def user_search(ctx: SiteContext) -> Response:
    """GET /rest/api/3/user/search?query=|accountId=: a bare array of matching users."""
    require_browse_users(ctx)
    query, account_id = ctx.params.get("query"), ctx.params.get("accountId")
    if not query and not account_id and not ctx.params.get("property"):
        raise ApiError(400, "One of 'accountId', 'query' or 'property' query parameters must be provided.")
    if query and account_id:
        raise ApiError(400, "The 'query' and 'accountId' query parameters cannot be used together.")
    accounts = [ctx.state.tenant.accounts[i] for i in ctx.site.user_ids]
    if account_id:
        matches = [a for a in accounts if a.account_id == account_id]
    elif query:
        needle = query.lower()
        matches = [a for a in accounts if needle in a.display_name.lower() or needle in a.email.lower()]
    else:
        matches = []  # no user carries entity properties in the simulator
    # the same page-size rule as users/search [I]: Atlassian does not document this cap
    start, size = page_params(ctx.params, "users/search")
    win = window(matches, start, size, ctx.quirks)
    return JSONResponse([render_user(ctx, a) for a in win.items])


# --- groups ---------------------------------------------------------------------------------------


def groups_for_access(site: Site, access_type: str | None, application_key: str | None) -> list[Group]:
    """group/bulk's ``accessType`` and ``applicationKey`` filters [I]."""
    groups = site.groups
    if application_key:
        role = next((r for r in site.application_roles if r.key == application_key), None)
        groups = [g for g in groups if role is not None and g.group_id in role.groups]
    if access_type == "site-admin":
        groups = [g for g in groups if g.name == "site-admins"]
    elif access_type == "admin":
        groups = [g for g in groups if g.name in site.admin_group_names]
    elif access_type == "user":
        role_groups = {gid for r in site.application_roles for gid in r.groups}
        groups = [g for g in groups if g.group_id in role_groups]
    elif access_type:
        raise ApiError(400, f"Invalid accessType: '{access_type[:100]}'.", errors={"accessType": "invalid"})
    return groups


@site_endpoint(Requirement("jira", "read:jira-user", ("read:group:jira",)))
async def group_bulk(ctx: SiteContext) -> Response:
    """GET /rest/api/3/group/bulk: a PageBean of every group, optionally filtered by id or name."""
    require_browse_users(ctx)
    start, size = page_params(ctx.params, "group/bulk")
    groups = groups_for_access(ctx.site, ctx.params.get("accessType"), ctx.params.get("applicationKey"))
    ids, names = set(ctx.params.getlist("groupId")), set(ctx.params.getlist("groupName"))
    if ids or names:
        groups = [g for g in groups if g.group_id in ids or g.name in names]
    win = window(groups, start, size, ctx.quirks)
    body = page_bean(ctx.url(ctx.path), ctx.params, win, lambda g: {"name": g.name, "groupId": g.group_id})
    return JSONResponse(body)


@site_endpoint(Requirement("jira", "read:jira-user", ("read:group:jira",)))
async def groups_picker(ctx: SiteContext) -> Response:
    """GET /rest/api/3/groups/picker: ``FoundGroups`` whose names contain ``query`` (case-insensitive).

    [I] ``maxResults`` defaults to 20 as the OpenAPI says and is not capped further (pycontribs asks
    for 9999 to list every group).
    """
    require_browse_users(ctx)
    query = (ctx.params.get("query") or "").lower()
    excluded = set(ctx.params.getlist("exclude")) | set(ctx.params.getlist("excludeId"))
    found = [
        g
        for g in ctx.site.groups
        if query in g.name.lower() and g.name not in excluded and g.group_id not in excluded
    ]
    shown = found[: int_param(ctx.params, "maxResults", 20)]
    return JSONResponse(
        {
            "header": f"Showing {len(shown)} of {len(found)} matching groups",
            "total": len(found),
            "groups": [
                {"name": g.name, "html": html.escape(g.name), "labels": [], "groupId": g.group_id}
                for g in shown
            ],
        }
    )


@site_endpoint(
    Requirement(
        "jira", "manage:jira-configuration", ("read:group:jira", "read:user:jira", "read:avatar:jira")
    )
)
async def group_member(ctx: SiteContext) -> Response:
    """GET /rest/api/3/group/member: a PageBean of UserDetails, active members unless asked."""
    require_browse_users(ctx)
    group = find_group(ctx)
    start, size = page_params(ctx.params, "group/member")
    accounts = ctx.state.tenant.accounts
    members = [accounts[m] for m in group.members]
    if not bool_param(ctx.params, "includeInactiveUsers", False):
        members = [a for a in members if a.active]
    win = window(members, start, size, ctx.quirks)
    body = page_bean(ctx.url(ctx.path), ctx.params, win, lambda a: render_user_details(ctx, a))
    return JSONResponse(body)


LEGACY_RANGE = re.compile(r"^users(?:\[(\d+):(\d+)\])?$")
LEGACY_PAGE = 50


def legacy_range(ctx: SiteContext) -> tuple[int, int] | None:
    """``expand=users[a:b]`` (both ends inclusive, at most 50 users); ``users`` alone is ``[0:49]``."""
    for part in expansions(ctx):
        match = LEGACY_RANGE.match(part)
        if part.startswith("users") and match is None:
            raise ApiError(400, f"Invalid expand value: '{part[:100]}'.", errors={"expand": "invalid"})
        if match is not None:
            first = int(match.group(1) or 0)
            last = int(match.group(2)) if match.group(2) else first + LEGACY_PAGE - 1
            return first, min(last, first + LEGACY_PAGE - 1)
    return None


@site_endpoint(
    Requirement("jira", "read:jira-user", ("read:group:jira", "read:user:jira", "read:avatar:jira"))
)
async def legacy_group(ctx: SiteContext) -> Response:
    """GET /rest/api/3/group?groupname=&expand=users[0:49]: deprecated, still called by pycontribs."""
    require_browse_users(ctx)
    group = find_group(ctx)
    wanted = legacy_range(ctx)
    first, last = wanted if wanted is not None else (0, -1)
    accounts = ctx.state.tenant.accounts
    chosen = group.members[first : last + 1]
    return JSONResponse(
        {
            **render_group_name(ctx, group),
            "users": {
                "size": len(group.members),
                "items": [render_user_details(ctx, accounts[m]) for m in chosen],
                "max-results": LEGACY_PAGE,
                "start-index": first,
                "end-index": first + max(0, len(chosen) - 1),
            },
            "expand": "users",
        }
    )


# --- application roles, license, configuration, preferences --------------------------------------


def render_application_role(ctx: SiteContext, role: ApplicationRole) -> dict[str, Any]:
    groups = [g for g in (ctx.site.group_by_id(i) for i in role.groups) if g is not None]
    defaults = [g for g in (ctx.site.group_by_id(i) for i in role.default_groups) if g is not None]
    users = {m for g in groups for m in g.members}
    noun = {"jira-software": "developers", "jira-servicedesk": "agents"}.get(role.key, "users")
    return {
        "key": role.key,
        "name": role.name,
        "groups": [g.name for g in groups],
        "groupDetails": [render_group_name(ctx, g) for g in groups],
        "defaultGroups": [g.name for g in defaults],
        "defaultGroupsDetails": [render_group_name(ctx, g) for g in defaults],
        "selectedByDefault": False,
        "defined": False,
        "numberOfSeats": role.number_of_seats,
        "remainingSeats": max(0, role.number_of_seats - len(users)),
        "userCount": len(users),
        "userCountDescription": f"{len(users)} {noun}",
        "hasUnlimitedSeats": False,
        "platform": role.platform,
    }


@site_endpoint(Requirement("jira", "manage:jira-configuration", ("read:application-role:jira",), admin=True))
async def application_roles(ctx: SiteContext) -> Response:
    """GET /rest/api/3/applicationrole: a bare array, Administer Jira."""
    return JSONResponse([render_application_role(ctx, r) for r in ctx.site.application_roles])


@site_endpoint(Requirement("jira", "manage:jira-configuration", ("read:application-role:jira",), admin=True))
async def application_role(ctx: SiteContext) -> Response:
    """GET /rest/api/3/applicationrole/{key}."""
    key = ctx.request.path_params["key"]
    role = next((r for r in ctx.site.application_roles if r.key == key), None)
    if role is None:
        raise ApiError(404, f"The application role '{key}' does not exist.")
    return JSONResponse(render_application_role(ctx, role))


def jira_plans(site: Site) -> dict[str, str]:
    return {app: plan for app, plan in site.plans.items() if app.startswith("jira")}


@site_endpoint(Requirement("jira", "manage:jira-configuration", ("read:license:jira",)))
async def instance_license(ctx: SiteContext) -> Response:
    """GET /rest/api/3/instance/license: the plan of each Jira product."""
    apps = [{"id": app, "plan": plan} for app, plan in jira_plans(ctx.site).items()]
    return JSONResponse({"applications": apps})


@site_endpoint(
    Requirement(
        "jira", "read:jira-user", ("read:instance-configuration:jira", "read:issue.time-tracking:jira")
    )
)
async def configuration(ctx: SiteContext) -> Response:
    """GET /rest/api/3/configuration: the global settings (fixed; the example in Atlassian's reference)."""
    return JSONResponse(catalog.JIRA_CONFIGURATION)


@site_endpoint(Requirement("jira", "manage:jira-configuration", ("read:user-configuration:jira",)))
async def my_preferences(ctx: SiteContext) -> Response:
    """GET /rest/api/3/mypreferences?key=: a JSON string; 404 when the key is missing or unknown."""
    assert ctx.account is not None  # not anonymous: the pipeline has authenticated the caller
    key = ctx.params.get("key", "")
    known = {**catalog.USER_PREFERENCES, "jira.user.locale": ctx.account.locale}
    known["jira.user.timezone"] = ctx.account.time_zone
    if key not in known:
        raise ApiError(404, f"Preference with key '{key[:100]}' not found." if key else "Key is required.")
    return JSONResponse(known[key])


@site_endpoint(
    Requirement("jira", "manage:jira-configuration", ("read:user-configuration:jira",), anonymous=True)
)
async def my_locale(ctx: SiteContext) -> Response:
    """GET /rest/api/3/mypreferences/locale: the user's locale; anonymous callers get the site default."""
    return JSONResponse({"locale": ctx.account.locale if ctx.account else "en_US"})


# --- permissions ----------------------------------------------------------------------------------


def permission_body(key: str, name: str, kind: str, description: str) -> dict[str, Any]:
    return {"key": key, "name": name, "type": kind, "description": description}


@site_endpoint(Requirement("jira", "manage:jira-configuration", ("read:permission:jira",), anonymous=True))
async def permissions(ctx: SiteContext) -> Response:
    """GET /rest/api/3/permissions: every global and project permission; anonymous allowed."""
    return JSONResponse({"permissions": {p[0]: permission_body(*p) for p in catalog.PERMISSIONS}})


def has_global_permission(ctx: SiteContext, key: str) -> bool:
    if ctx.account is None:
        return False
    if ctx.is_admin():
        return True
    return key not in catalog.ADMIN_ONLY_GLOBAL_PERMISSIONS and has_product_access(
        ctx.site, ctx.account.account_id
    )


def project_context(ctx: SiteContext) -> list[Project]:
    """mypermissions' context: the named project, or every project (held in any) when none is named."""
    id_or_key = ctx.params.get("projectKey") or ctx.params.get("projectId")
    return [find_project(ctx, id_or_key)] if id_or_key else ctx.site.projects


@site_endpoint(Requirement("jira", "read:jira-work", ("read:permission:jira",), anonymous=True))
async def my_permissions(ctx: SiteContext) -> Response:
    """GET /rest/api/3/mypermissions?permissions=A,B[&projectKey=]: what the caller holds."""
    raw = required_param(ctx, "permissions", "The 'permissions' query parameter is required.")
    catalogued = {p[0]: p for p in catalog.PERMISSIONS}
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    unknown = [k for k in keys if k not in catalogued]
    if unknown or not keys:
        raise ApiError(400, f"Permission keys not valid: {', '.join(unknown)[:200]}.")
    projects = project_context(ctx)
    caller = ctx.account.account_id if ctx.account else None
    body: dict[str, Any] = {}
    for key in keys:
        _, name, kind, description = catalogued[key]
        if kind == "GLOBAL":
            held = has_global_permission(ctx, key)
        else:
            held = any(holds_project_permission(ctx.site, p, key, caller) for p in projects)
        body[key] = {"id": catalog.PERMISSION_IDS[key], **permission_body(key, name, kind, description)}
        body[key]["havePermission"] = held
    return JSONResponse({"permissions": body})


SCHEME_EXPANDS = "permissions,user,group,projectRole,field,all"


def render_holder(ctx: SiteContext, grant: PermissionGrant) -> dict[str, Any]:
    """A grant's holder: the deprecated ``parameter`` and its ``value`` (a group's id, not its name)."""
    kind, parameter = grant.holder_type, grant.holder_parameter
    holder: dict[str, Any] = {"type": kind}
    if parameter is None:
        return holder
    value = parameter
    if kind == "group":
        group = ctx.site.group_by_name(parameter)
        value = group.group_id if group else parameter
    holder.update({"parameter": parameter, "value": value})
    expand = {"group": "group", "projectRole": "projectRole", "user": "user"}.get(kind)
    if expand:
        holder["expand"] = expand
    return holder


def render_grant(ctx: SiteContext, scheme: PermissionScheme, grant: PermissionGrant) -> dict[str, Any]:
    return {
        "id": grant.grant_id,
        "self": api_url(ctx, f"/permissionscheme/{scheme.scheme_id}/permission/{grant.grant_id}"),
        "holder": render_holder(ctx, grant),
        "permission": grant.permission,
    }


def render_scheme(ctx: SiteContext, scheme: PermissionScheme) -> dict[str, Any]:
    """A PermissionScheme; its grants only with ``expand=permissions`` or ``all``, as Jira does."""
    body: dict[str, Any] = {
        "expand": SCHEME_EXPANDS,
        "id": scheme.scheme_id,
        "self": api_url(ctx, f"/permissionscheme/{scheme.scheme_id}"),
        "name": scheme.name,
        "description": scheme.description,
    }
    if expansions(ctx) & {"permissions", "all"}:
        body["permissions"] = [render_grant(ctx, scheme, g) for g in scheme.grants]
    return body


@site_endpoint(Requirement("jira", "read:jira-work", SCHEME_GRANULAR))
async def permission_schemes(ctx: SiteContext) -> Response:
    """GET /rest/api/3/permissionscheme[?expand=permissions]: every scheme, unpaged."""
    return JSONResponse({"permissionSchemes": [render_scheme(ctx, s) for s in ctx.site.permission_schemes]})


@site_endpoint(Requirement("jira", "read:jira-work", SCHEME_GRANULAR))
async def permission_scheme(ctx: SiteContext) -> Response:
    """GET /rest/api/3/permissionscheme/{schemeId}."""
    return JSONResponse(render_scheme(ctx, find_scheme(ctx)))


@site_endpoint(
    Requirement(
        "jira",
        "read:jira-work",
        (
            "read:application-role:jira",
            "read:field:jira",
            "read:group:jira",
            "read:permission:jira",
            "read:project-role:jira",
            "read:user:jira",
        ),
    )
)
async def permission_scheme_grants(ctx: SiteContext) -> Response:
    """GET /rest/api/3/permissionscheme/{schemeId}/permission: every grant of the scheme."""
    scheme = find_scheme(ctx)
    return JSONResponse(
        {"permissions": [render_grant(ctx, scheme, g) for g in scheme.grants], "expand": SCHEME_EXPANDS}
    )


# --- project roles --------------------------------------------------------------------------------


def render_actor(ctx: SiteContext, index: int, kind: str, value: str) -> dict[str, Any] | None:
    """A RoleActor; its ``id`` is its position in the role [I] (Jira's ids are opaque)."""
    actor: dict[str, Any] = {"id": 10_100 + index, "type": kind}
    if kind == "atlassian-group-role-actor":
        group = ctx.site.group_by_id(value)
        if group is None:
            return None
        actor.update(
            {
                "displayName": group.name,
                "name": group.name,
                "actorGroup": {"name": group.name, "displayName": group.name, "groupId": group.group_id},
            }
        )
        return actor
    account = ctx.state.tenant.accounts.get(value)
    if account is None:
        return None
    actor.update(
        {
            "displayName": account.display_name,
            "avatarUrl": avatar_urls(account.account_id)["48x48"],
            "actorUser": {"accountId": account.account_id},
        }
    )
    return actor


def render_role(
    ctx: SiteContext, role: ProjectRole, actors: list[tuple[str, str]], self_path: str
) -> dict[str, Any]:
    rendered = (render_actor(ctx, i, kind, value) for i, (kind, value) in enumerate(actors))
    return {
        "self": api_url(ctx, self_path),
        "name": role.name,
        "id": role.role_id,
        "description": role.description,
        "actors": [a for a in rendered if a is not None],
    }


@site_endpoint(Requirement("jira", "manage:jira-configuration", ROLE_GRANULAR, admin=True))
async def roles(ctx: SiteContext) -> Response:
    """GET /rest/api/3/role: every project role with its default actors (Administer Jira)."""
    return JSONResponse(
        [render_role(ctx, r, r.default_actors, f"/role/{r.role_id}") for r in ctx.site.project_roles]
    )


@site_endpoint(Requirement("jira", "manage:jira-configuration", ROLE_GRANULAR, admin=True))
async def role(ctx: SiteContext) -> Response:
    """GET /rest/api/3/role/{id}."""
    found = find_role(ctx, ctx.request.path_params["role_id"])
    return JSONResponse(render_role(ctx, found, found.default_actors, f"/role/{found.role_id}"))


def administered_project(ctx: SiteContext) -> Project:
    """The path's project, hidden (404) from callers who may not administer it, as Jira does."""
    id_or_key = ctx.request.path_params["id_or_key"]
    project = find_project(ctx, id_or_key)
    if not can_administer_project(ctx, project):
        kind = "id" if id_or_key.isdigit() else "key"
        raise ApiError(404, f"No project could be found with {kind} '{id_or_key}'.")
    return project


@site_endpoint(Requirement("jira", "read:jira-work", ("read:project-role:jira",)))
async def project_roles(ctx: SiteContext) -> Response:
    """GET /rest/api/3/project/{idOrKey}/role: role name -> absolute URL back on the simulator."""
    project = administered_project(ctx)
    return JSONResponse(
        {
            r.name: api_url(ctx, f"/project/{project.project_id}/role/{r.role_id}")
            for r in ctx.site.project_roles
        }
    )


@site_endpoint(Requirement("jira", "read:jira-work", ROLE_GRANULAR))
async def project_role(ctx: SiteContext) -> Response:
    """GET /rest/api/3/project/{idOrKey}/role/{id}: the role's actors in this project."""
    project = administered_project(ctx)
    found = find_role(ctx, ctx.request.path_params["role_id"])
    actors = project.role_actors.get(found.role_id, [])
    if bool_param(ctx.params, "excludeInactiveUsers", False):
        accounts = ctx.state.tenant.accounts
        actors = [(k, v) for k, v in actors if k != "atlassian-user-role-actor" or accounts[v].active]
    return JSONResponse(
        render_role(ctx, found, actors, f"/project/{project.project_id}/role/{found.role_id}")
    )


# --- fields and avatars ---------------------------------------------------------------------------


def render_field(item: Field) -> dict[str, Any]:
    if not item.custom:
        schema: dict[str, Any] = {"type": item.schema_type, "system": item.schema_system or item.field_id}
        clauses = [item.field_id]
    else:
        schema = {"type": item.schema_type, "custom": item.custom_type, "customId": item.custom_id}
        clauses = [f"cf[{item.custom_id}]", item.name]
    return {
        "id": item.field_id,
        "key": item.field_id,
        "name": item.name,
        "custom": item.custom,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": clauses,
        "schema": schema,
    }


@site_endpoint(
    Requirement(
        "jira",
        "read:jira-work",
        (
            "read:field:jira",
            "read:avatar:jira",
            "read:project-category:jira",
            "read:project:jira",
            "read:field-configuration:jira",
        ),
        anonymous=True,
    )
)
async def fields(ctx: SiteContext) -> Response:
    """GET /rest/api/3/field: every system and custom field, unpaged (a bare array)."""
    return JSONResponse([render_field(f) for f in ctx.site.fields])


def render_system_avatar(kind: str, avatar_id: int) -> dict[str, Any]:
    """A system avatar; its URLs are relative, as Jira serves them (references §4)."""
    return {
        "id": str(avatar_id),
        "isSystemAvatar": True,
        "isSelected": False,
        "isDeletable": False,
        "urls": {
            size: f"/secure/useravatar?size={name}&avatarId={avatar_id}&avatarType={kind}"
            for size, name in catalog.AVATAR_SIZES
        },
    }


@site_endpoint(Requirement("jira", "manage:jira-configuration", ("read:avatar:jira",), anonymous=True))
async def system_avatars(ctx: SiteContext) -> Response:
    """GET /rest/api/3/avatar/{type}/system: issuetype, project, user or priority."""
    kind = ctx.request.path_params["type"]
    if kind not in catalog.SYSTEM_AVATARS:
        raise ApiError(400, f"Invalid avatar type '{kind[:50]}'.", errors={"type": "invalid"})
    first, count = catalog.SYSTEM_AVATARS[kind]
    return JSONResponse({"system": [render_system_avatar(kind, first + i) for i in range(count)]})


# --- projects -------------------------------------------------------------------------------------


PROJECT_EXPANDS = "description,lead,issueTypes,url,projectKeys,permissions,insight"


def render_project(ctx: SiteContext, project: Project, wanted: set[str]) -> dict[str, Any]:
    """A Project; ``description`` and ``lead`` when expanded, ``insight`` always (references §4)."""
    body: dict[str, Any] = {
        "expand": PROJECT_EXPANDS,
        "self": api_url(ctx, f"/project/{project.project_id}"),
        "id": project.project_id,
        "key": project.key,
        "name": project.name,
        "avatarUrls": {
            size: api_url(ctx, f"/universal_avatar/view/type/project/avatar/{project.project_id}?size={n}")
            for size, n in catalog.AVATAR_SIZES
        },
        "projectTypeKey": project.type_key,
        "simplified": project.style == "next-gen",
        "style": project.style,
        "isPrivate": False,
        "properties": {},
    }
    if project.category is not None:
        category = project.category
        body["projectCategory"] = {
            "self": api_url(ctx, f"/projectCategory/{category.category_id}"),
            "id": category.category_id,
            "name": category.name,
            "description": category.description,
        }
    if "description" in wanted:
        body["description"] = f"{project.name} project"
    if "lead" in wanted:
        lead = ctx.state.tenant.accounts.get(project.lead_account_id)
        if lead is not None:
            body["lead"] = render_user(ctx, lead)
    body["insight"] = {
        "totalIssueCount": project.issue_count,
        "lastIssueUpdateTime": jira_time(project.last_issue_update_ms),
    }
    return body


def project_order(order_by: str) -> tuple[Callable[[Project], Any], bool]:
    """``orderBy``: a field with an optional ``+``/``-``; ``key`` by default."""
    field_name, descending = order_by.lstrip("+-"), order_by.startswith("-")
    keys: dict[str, Callable[[Project], Any]] = {
        "key": lambda p: p.key,
        "name": lambda p: p.name.lower(),
        "category": lambda p: p.category.name if p.category else "",
        "owner": lambda p: p.lead_account_id,
        "issueCount": lambda p: p.issue_count,
        "lastIssueUpdatedDate": lambda p: p.last_issue_update_ms,
        "lastIssueUpdatedTime": lambda p: p.last_issue_update_ms,
        "archivedDate": lambda p: p.key,  # no project is archived or deleted: key order [I]
        "deletedDate": lambda p: p.key,
    }
    if field_name not in keys:
        raise ApiError(400, f"Invalid orderBy value: '{order_by[:100]}'.", errors={"orderBy": "invalid"})
    return keys[field_name], descending


def searched_projects(ctx: SiteContext) -> list[Project]:
    """project/search's filters: ids, keys, query (key or name), typeKey, categoryId, status."""
    projects = [p for p in ctx.site.projects if can_view_project(ctx, p)]
    params = ctx.params
    ids, keys = set(params.getlist("id")), {k.upper() for k in params.getlist("keys")}
    if ids:
        projects = [p for p in projects if p.project_id in ids]
    if keys:
        projects = [p for p in projects if p.key in keys]
    if query := (params.get("query") or "").lower():
        projects = [p for p in projects if query in p.key.lower() or query in p.name.lower()]
    if types := {t.strip() for t in (params.get("typeKey") or "").split(",") if t.strip()}:
        projects = [p for p in projects if p.type_key in types]
    if category := params.get("categoryId"):
        projects = [p for p in projects if p.category is not None and p.category.category_id == category]
    if "live" not in (params.getlist("status") or ["live"]):
        projects = []  # every simulated project is live: none is archived or deleted
    order, descending = project_order(params.get("orderBy") or "key")
    return sorted(projects, key=order, reverse=descending)


@site_endpoint(Requirement("jira", "read:jira-work", PROJECT_GRANULAR))
async def project_search(ctx: SiteContext) -> Response:
    """GET /rest/api/3/project/search: a PageBean of the projects the caller may view (max 100)."""
    start, size = page_params(ctx.params, "project/search")
    win = window(searched_projects(ctx), start, size, ctx.quirks)
    wanted = expansions(ctx)
    return JSONResponse(
        page_bean(ctx.url(ctx.path), ctx.params, win, lambda p: render_project(ctx, p, wanted))
    )


@site_endpoint(Requirement("jira", "read:jira-work", PROJECT_GRANULAR, anonymous=True))
async def projects(ctx: SiteContext) -> Response:
    """GET /rest/api/3/project: deprecated; every visible project, unpaged, in key order."""
    wanted = expansions(ctx)
    visible = sorted((p for p in ctx.site.projects if can_view_project(ctx, p)), key=lambda p: p.key)
    return JSONResponse([render_project(ctx, p, wanted) for p in visible])


@site_endpoint(Requirement("jira", "read:jira-work", PROJECT_GRANULAR, anonymous=True))
async def project(ctx: SiteContext) -> Response:
    """GET /rest/api/3/project/{idOrKey}: the project with its lead, description and roles."""
    found = find_project(ctx, ctx.request.path_params["id_or_key"])
    body = render_project(ctx, found, {"description", "lead", *expansions(ctx)})
    body["roles"] = {
        r.name: api_url(ctx, f"/project/{found.project_id}/role/{r.role_id}") for r in ctx.site.project_roles
    }
    return JSONResponse(body)


# --- the audit log --------------------------------------------------------------------------------


def audit_item(item_id: str, name: str, type_name: str, directory: bool = False) -> dict[str, Any]:
    item = {"id": item_id, "name": name, "typeName": type_name}
    if directory:
        item["parentId"], item["parentName"] = catalog.IDENTITY_DIRECTORY
    return item


def audit_object(site: Site, record: AuditRecord, type_name: str) -> dict[str, Any]:
    """The record's objectItem: a user is named by its account id (references §4), a group by its name."""
    if type_name == "USER":
        return audit_item(record.object_id, record.object_id, type_name, directory=True)
    if type_name == "GROUP":
        return audit_item(record.object_name, record.object_name, type_name, directory=True)
    if type_name == "PERMISSION_SCHEME" and site.permission_schemes:
        scheme = site.permission_schemes[record.record_id % len(site.permission_schemes)]
        return audit_item(str(scheme.scheme_id), scheme.name, type_name)
    return audit_item(record.object_id, record.object_name, type_name)


def audit_changes(site: Site, record: AuditRecord) -> list[tuple[str, str, str]]:
    """(fieldName, changedFrom, changedTo) of each kind of record [I]."""
    kind, detail, extra = record.kind, record.detail, record.extra
    if kind == "member_added":
        return [("Membership", "", detail)]
    if kind == "user_created":
        return [("Full name", "", record.object_name), ("Active", "", "true")]
    if kind == "scheme_updated":
        return [("Permission", "", f"Browse Projects: group {detail}")]
    if kind == "app_installed":
        return [("Version", "", detail)]
    if kind == "app_upgraded":
        return [("Version", extra, detail)]
    if kind in ("app_disabled", "app_enabled"):
        return [("Enabled", str(kind == "app_disabled").lower(), str(kind == "app_enabled").lower())]
    if kind == "app_uninstalled":
        return [("Version", detail, "")]
    if kind == "oauth_authorized":
        integration = next((o for o in site.oauth_integrations if o.client_id == record.object_id), None)
        return [("Scopes", "", " ".join(integration.scopes) if integration else detail)]
    return []


def render_audit(site: Site, record: AuditRecord) -> dict[str, Any]:
    """An AuditRecordBean, with the ``authorAccountId`` the real API sends beyond its schema."""
    default = (record.kind.replace("_", " ").capitalize(), "other", "OBJECT")
    summary, category, type_name = catalog.AUDIT_KINDS.get(record.kind, default)
    associated = (
        [audit_item(record.detail, record.detail, "GROUP", directory=True)]
        if record.kind == "member_added"
        else []
    )
    return {
        "id": record.record_id,
        "summary": summary,
        "remoteAddress": record.remote_address,
        "authorKey": "",
        "authorAccountId": record.author_account_id,
        "created": jira_time(record.created_ms),
        "category": category,
        "eventSource": "",
        "description": "",
        "objectItem": audit_object(site, record, type_name),
        "changedValues": [
            {"fieldName": f, "changedFrom": a, "changedTo": b} for f, a, b in audit_changes(site, record)
        ],
        "associatedItems": associated,
    }


def audit_text(body: dict[str, Any]) -> str:
    """The fields ``filter`` searches (the OpenAPI description of auditing/record), lower-cased."""
    item = body["objectItem"]
    parts = [
        body["summary"],
        body["category"],
        body["eventSource"],
        item.get("name", ""),
        item.get("parentName", ""),
        item.get("typeName", ""),
        body["remoteAddress"],
        *(v for change in body["changedValues"] for v in (change["changedFrom"], change["changedTo"])),
    ]
    return "\n".join(parts).lower()


def time_param(ctx: SiteContext, name: str) -> int | None:
    """``from``/``to``: ISO 8601 (Jira's ``+0000`` offsets too) or epoch milliseconds; naive is UTC."""
    raw = ctx.params.get(name)
    if not raw:
        return None
    if raw.isdigit():
        return int(raw)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", raw.strip().replace("Z", "+00:00"))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        message = f"The value '{raw[:100]}' is not a valid date for the '{name}' parameter."
        raise ApiError(400, message, errors={name: "invalid date"}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def audit_selection(ctx: SiteContext) -> list[AuditRecord]:
    """The records asked for by ``from``, ``to`` and ``filter``, newest first [I]."""
    since, until = time_param(ctx, "from"), time_param(ctx, "to")
    records: Iterable[AuditRecord] = reversed(ctx.state.tenant.switches.served_audit(ctx.site.jira_audit))
    if since is not None or until is not None:
        low, high = since if since is not None else 0, until if until is not None else 2**63
        records = (r for r in records if low <= r.created_ms <= high)
    terms = str(ctx.params.get("filter") or "").lower().split()
    if terms:
        # each term must match one of the searched fields (the OpenAPI's "man ed" example)
        records = (r for r in records if all(t in audit_text(render_audit(ctx.site, r)) for t in terms))
    return list(records)


@site_endpoint(
    Requirement("jira", "manage:jira-configuration", ("read:audit-log:jira", "read:user:jira"), admin=True)
)
async def audit_records(ctx: SiteContext) -> Response:
    """GET /rest/api/3/auditing/record: offset/limit/total/records; 403 when every Jira plan is Free."""
    if all(plan == "FREE" for plan in jira_plans(ctx.site).values()):
        raise ApiError(403, "Audit logs are available when at least one Jira product is on a paid plan.")
    offset, limit = page_params(ctx.params, "auditing/record", "offset", "limit")
    win = window(audit_selection(ctx), offset, limit, ctx.quirks)
    records = [render_audit(ctx.site, r) for r in win.items]
    return JSONResponse({"offset": offset, "limit": win.size, "total": win.total, "records": records})


ROUTES: list[BaseRoute] = [
    Route(f"{API}/serverInfo", server_info),
    Route(f"{API}/myself", myself),
    Route(f"{API}/user", user),
    Route(f"{API}/user/search", user_search),
    Route(f"{API}/users/search", users_search),
    Route(f"{API}/users", users_search),  # deprecated alias
    Route(f"{API}/group/bulk", group_bulk),
    Route(f"{API}/group/member", group_member),
    Route(f"{API}/groups/picker", groups_picker),
    Route(f"{API}/group", legacy_group),
    Route(f"{API}/applicationrole", application_roles),
    Route(f"{API}/applicationrole/{{key}}", application_role),
    Route(f"{API}/instance/license", instance_license),
    Route(f"{API}/configuration", configuration),
    Route(f"{API}/mypreferences", my_preferences),
    Route(f"{API}/mypreferences/locale", my_locale),
    Route(f"{API}/permissions", permissions),
    Route(f"{API}/mypermissions", my_permissions),
    Route(f"{API}/permissionscheme", permission_schemes),
    Route(f"{API}/permissionscheme/{{scheme_id}}", permission_scheme),
    Route(f"{API}/permissionscheme/{{scheme_id}}/permission", permission_scheme_grants),
    Route(f"{API}/role", roles),
    Route(f"{API}/role/{{role_id}}", role),
    Route(f"{API}/project/search", project_search),
    Route(f"{API}/project", projects),
    Route(f"{API}/project/{{id_or_key}}", project),
    Route(f"{API}/project/{{id_or_key}}/role", project_roles),
    Route(f"{API}/project/{{id_or_key}}/role/{{role_id}}", project_role),
    Route(f"{API}/field", fields),
    Route(f"{API}/avatar/{{type}}/system", system_avatars),
    Route(f"{API}/auditing/record", audit_records),
]
