"""One declarative stream per Atlassian data set: endpoint, paging style, natural key, parent,
the scope it needs, and how to shape a row. Adding a data set is a short spec here plus its test.

A stream with a ``parent`` runs once per live row of the parent data set (for example group
members per group); ``fan_out`` lists a second level (project role actors per project and role).
A ``derive_from`` stream makes no request: it explodes rows nested in another stream's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from appgov.connectors.atlassian.pagination import BareArray, OffsetLimit, PageBean, StartLimitLinks, Style

Row = dict[str, Any]
JIRA = "/rest/api/3"
WIKI = "/wiki/rest/api"


def _as_list(data: Any) -> list[Any]:
    return data if isinstance(data, list) else [data]


def _no_context(parent: Row, other: Row | None) -> dict[str, Any]:
    return {}


def _nothing(row: Row) -> Iterable[Row]:
    return ()


def _same(row: Row) -> Row:
    return row


@dataclass(frozen=True)
class Single:
    """An endpoint that answers one object or one unpaged array (``items`` picks the list)."""

    items: Callable[[Any], list[Any]] = _as_list


@dataclass(frozen=True)
class Stream:
    name: str  # "<product>.<data set>", the records table's dataset column
    product: str  # jira | confluence
    path: str  # relative to the site; {placeholders} come from the parent row
    key: Callable[[Row], str]
    style: Style | Single = field(default_factory=Single)
    params: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    fan_out: str | None = None  # a second parent data set crossed with the first (e.g. roles)
    # for child streams: what a parent row (and fan-out row) contributes; it fills the path's
    # placeholders, is merged into every row, and the names in ``context_params`` go in the query
    context: Callable[[Row, Row | None], dict[str, Any]] = _no_context
    context_params: tuple[str, ...] = ()
    derive_from: str | None = None
    derive: Callable[[Row], Iterable[Row]] = _nothing
    transform: Callable[[Row], Row] = _same
    # audit logs: incremental by time; the bookmark is the newest ``bookmark_field`` seen, sent back
    # (inclusive) as ``bookmark_param``; overlapping rows de-duplicate by key
    bookmark_field: str = ""
    bookmark_param: str = ""
    scope: str = ""  # the classic scope this data set needs over OAuth (api-facts §1.7)
    marketplace: bool = False  # enrich each row from the Marketplace (apps)
    needs_api_token: bool = False  # the plugin manager: Basic auth on the site only


def _drop(*names: str) -> Callable[[Row], Row]:
    def transform(row: Row) -> Row:
        return {k: v for k, v in row.items() if k not in names}

    return transform


def _user_key(row: Row) -> str:
    return str(row["accountId"])


def _actor_value(actor: Row) -> str:
    if "actorGroup" in actor:
        return str(actor["actorGroup"].get("groupId") or actor["actorGroup"].get("name"))
    return str((actor.get("actorUser") or {}).get("accountId") or actor.get("name"))


def _scheme_grants(scheme: Row) -> Iterable[Row]:
    for grant in scheme.get("permissions") or []:
        yield {**grant, "schemeId": scheme["id"]}


def _role_actors(row: Row) -> Iterable[Row]:
    for actor in row.get("actors") or []:
        yield {**actor, "projectId": row["projectId"], "roleId": row["id"]}


def _permissions(data: Any) -> list[Any]:
    return list((data or {}).get("permissions", {}).values())


def _plugins(data: Any) -> list[Any]:
    return [p for p in (data or {}).get("plugins", []) if p.get("userInstalled")]


STREAMS: tuple[Stream, ...] = (
    Stream(
        "jira.server_info",
        "jira",
        f"{JIRA}/serverInfo",
        lambda r: "serverInfo",
        transform=_drop("serverTime"),
    ),
    Stream(
        "jira.users",
        "jira",
        f"{JIRA}/users/search",
        _user_key,
        BareArray(),
        {"maxResults": 1000},
        transform=_drop("avatarUrls", "self"),
        scope="read:jira-user",
    ),
    Stream(
        "jira.groups",
        "jira",
        f"{JIRA}/group/bulk",
        lambda r: str(r["groupId"]),
        PageBean(),
        {"maxResults": 50},
        scope="read:jira-user",
    ),
    Stream(
        "jira.group_members",
        "jira",
        f"{JIRA}/group/member",
        lambda r: f"{r['groupId']}:{r['accountId']}",
        PageBean(),
        {"maxResults": 50, "includeInactiveUsers": "true"},
        parent="jira.groups",
        context=lambda g, _: {"groupId": g["groupId"]},
        context_params=("groupId",),
        transform=lambda r: {"groupId": r["groupId"], "accountId": r["accountId"], "active": r.get("active")},
        scope="manage:jira-configuration",
    ),
    Stream(
        "jira.application_roles",
        "jira",
        f"{JIRA}/applicationrole",
        lambda r: str(r["key"]),
        scope="manage:jira-configuration",
    ),
    Stream(
        "jira.permissions",
        "jira",
        f"{JIRA}/permissions",
        lambda r: str(r["key"]),
        Single(_permissions),
        scope="manage:jira-configuration",
    ),
    Stream(
        "jira.permission_schemes",
        "jira",
        f"{JIRA}/permissionscheme",
        lambda r: str(r["id"]),
        Single(lambda d: list((d or {}).get("permissionSchemes", []))),
        {"expand": "permissions"},
        scope="read:jira-work",
    ),
    Stream(
        "jira.permission_grants",
        "jira",
        "",
        lambda r: f"{r['schemeId']}:{r['id']}",
        derive_from="jira.permission_schemes",
        derive=_scheme_grants,
    ),
    Stream(
        "jira.project_roles",
        "jira",
        f"{JIRA}/role",
        lambda r: str(r["id"]),
        transform=_drop("actors"),
        scope="manage:jira-configuration",
    ),
    Stream(
        "jira.projects",
        "jira",
        f"{JIRA}/project/search",
        lambda r: str(r["id"]),
        PageBean(),
        {"maxResults": 100, "expand": "lead"},
        transform=_drop("avatarUrls"),
        scope="read:jira-work",
    ),
    Stream(
        "jira.project_role_details",
        "jira",
        f"{JIRA}/project/{{projectId}}/role/{{roleId}}",
        lambda r: f"{r['projectId']}:{r['id']}",
        parent="jira.projects",
        fan_out="jira.project_roles",
        context=lambda project, role: {"projectId": project["id"], "roleId": (role or {}).get("id")},
        scope="manage:jira-configuration",
    ),
    Stream(
        "jira.project_role_actors",
        "jira",
        "",
        lambda r: f"{r['projectId']}:{r['roleId']}:{r['type']}:{_actor_value(r)}",
        derive_from="jira.project_role_details",
        derive=_role_actors,
    ),
    Stream("jira.fields", "jira", f"{JIRA}/field", lambda r: str(r["id"]), scope="read:jira-work"),
    Stream(
        "jira.license",
        "jira",
        f"{JIRA}/instance/license",
        lambda r: "license",
        scope="manage:jira-configuration",
    ),
    Stream(
        "jira.configuration",
        "jira",
        f"{JIRA}/configuration",
        lambda r: "configuration",
        scope="read:jira-user",
    ),
    Stream(
        "jira.user_configuration",
        "jira",
        f"{JIRA}/mypreferences/locale",
        lambda r: "locale",
        scope="manage:jira-configuration",
    ),
    Stream(
        "jira.audit_records",
        "jira",
        f"{JIRA}/auditing/record",
        lambda r: str(r["id"]),
        OffsetLimit(),
        {"limit": 1000},
        bookmark_field="created",
        bookmark_param="from",
        scope="manage:jira-configuration",
    ),
    Stream(
        "jira.apps",
        "jira",
        "/rest/plugins/1.0/",
        lambda r: str(r["key"]),
        Single(_plugins),
        marketplace=True,
        needs_api_token=True,
    ),
    Stream(
        "confluence.settings",
        "confluence",
        f"{WIKI}/settings/systemInfo",
        lambda r: "systemInfo",
        scope="manage:confluence-configuration",
    ),
    Stream(
        "confluence.look_and_feel",
        "confluence",
        f"{WIKI}/settings/lookandfeel",
        lambda r: "lookandfeel",
        scope="manage:confluence-configuration",
    ),
    Stream(
        "confluence.groups",
        "confluence",
        f"{WIKI}/group",
        lambda r: str(r["id"]),
        StartLimitLinks(),
        {"limit": 50},
        transform=_drop("_links"),
        scope="read:confluence-groups",
    ),
    Stream(
        "confluence.group_members",
        "confluence",
        f"{WIKI}/group/{{groupId}}/membersByGroupId",
        lambda r: f"{r['groupId']}:{r['accountId']}",
        StartLimitLinks(),
        {"limit": 50},
        parent="confluence.groups",
        context=lambda g, _: {"groupId": g["id"]},
        transform=lambda r: {"groupId": r["groupId"], "accountId": r["accountId"]},
        scope="read:confluence-groups",
    ),
    Stream(
        "confluence.audit_records",
        "confluence",
        f"{WIKI}/audit",
        lambda r: str(r["creationDate"]),
        StartLimitLinks(),
        {"limit": 1000},
        bookmark_field="creationDate",
        bookmark_param="startDate",
    ),
    Stream(
        "confluence.apps",
        "confluence",
        "/wiki/rest/plugins/1.0/",
        lambda r: str(r["key"]),
        Single(_plugins),
        marketplace=True,
        needs_api_token=True,
    ),
)
