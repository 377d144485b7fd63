"""One declarative stream per Atlassian data set: endpoint, paging style, natural key, parent,
the scope it needs, and how to shape a row. Adding a data set is a short spec here plus its test.

A stream with a ``parent`` runs once per live row of the parent data set (for example group
members per group); ``fan_out`` lists a second level (project role actors per project and role).
A ``derive_from`` stream makes no request: it explodes rows nested in another stream's rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from appgov.connectors.atlassian.datasets import (
    CONFLUENCE_APPS,
    CONFLUENCE_AUDIT_RECORDS,
    CONFLUENCE_GROUP_MEMBERS,
    CONFLUENCE_GROUPS,
    CONFLUENCE_LOOK_AND_FEEL,
    CONFLUENCE_SETTINGS,
    JIRA_APPLICATION_ROLES,
    JIRA_APPS,
    JIRA_AUDIT_RECORDS,
    JIRA_CONFIGURATION,
    JIRA_FIELDS,
    JIRA_GROUP_MEMBERS,
    JIRA_GROUPS,
    JIRA_LICENSE,
    JIRA_PERMISSION_GRANTS,
    JIRA_PERMISSION_SCHEMES,
    JIRA_PERMISSIONS,
    JIRA_PROJECT_ROLE_ACTORS,
    JIRA_PROJECT_ROLE_DETAILS,
    JIRA_PROJECT_ROLES,
    JIRA_PROJECTS,
    JIRA_SERVER_INFO,
    JIRA_USER_CONFIGURATION,
    JIRA_USERS,
)
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


# what makes a Confluence audit record this record: not the author's name nor ``sysAdmin``, which
# Confluence renders as they are when the log is read, so a re-read record keeps its key
AUDIT_IDENTITY = (
    "creationDate",
    "remoteAddress",
    "summary",
    "description",
    "category",
    "affectedObject",
    "changedValues",
    "associatedObjects",
)


def confluence_audit_key(row: Row) -> str:
    """Confluence audit records carry no id, and two can share a millisecond: the key is the time
    and a digest of what the record says (``AUDIT_IDENTITY`` and the author's account id)."""
    identity = {name: row.get(name) for name in AUDIT_IDENTITY}
    identity["author"] = (row.get("author") or {}).get("accountId")
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return f"{row['creationDate']}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _permissions(data: Any) -> list[Any]:
    return list((data or {}).get("permissions", {}).values())


def _plugins(data: Any) -> list[Any]:
    return [p for p in (data or {}).get("plugins", []) if p.get("userInstalled")]


STREAMS: tuple[Stream, ...] = (
    Stream(
        JIRA_SERVER_INFO,
        "jira",
        f"{JIRA}/serverInfo",
        lambda r: "serverInfo",
        transform=_drop("serverTime"),
    ),
    Stream(
        JIRA_USERS,
        "jira",
        f"{JIRA}/users/search",
        _user_key,
        BareArray(),
        {"maxResults": 1000},
        transform=_drop("avatarUrls", "self"),
        scope="read:jira-user",
    ),
    Stream(
        JIRA_GROUPS,
        "jira",
        f"{JIRA}/group/bulk",
        lambda r: str(r["groupId"]),
        PageBean(),
        {"maxResults": 50},
        scope="read:jira-user",
    ),
    Stream(
        JIRA_GROUP_MEMBERS,
        "jira",
        f"{JIRA}/group/member",
        lambda r: f"{r['groupId']}:{r['accountId']}",
        PageBean(),
        {"maxResults": 50, "includeInactiveUsers": "true"},
        parent=JIRA_GROUPS,
        context=lambda g, _: {"groupId": g["groupId"]},
        context_params=("groupId",),
        transform=lambda r: {"groupId": r["groupId"], "accountId": r["accountId"], "active": r.get("active")},
        scope="manage:jira-configuration",
    ),
    Stream(
        JIRA_APPLICATION_ROLES,
        "jira",
        f"{JIRA}/applicationrole",
        lambda r: str(r["key"]),
        scope="manage:jira-configuration",
    ),
    Stream(
        JIRA_PERMISSIONS,
        "jira",
        f"{JIRA}/permissions",
        lambda r: str(r["key"]),
        Single(_permissions),
        scope="manage:jira-configuration",
    ),
    Stream(
        JIRA_PERMISSION_SCHEMES,
        "jira",
        f"{JIRA}/permissionscheme",
        lambda r: str(r["id"]),
        Single(lambda d: list((d or {}).get("permissionSchemes", []))),
        {"expand": "permissions"},
        scope="read:jira-work",
    ),
    Stream(
        JIRA_PERMISSION_GRANTS,
        "jira",
        "",
        lambda r: f"{r['schemeId']}:{r['id']}",
        derive_from=JIRA_PERMISSION_SCHEMES,
        derive=_scheme_grants,
    ),
    Stream(
        JIRA_PROJECT_ROLES,
        "jira",
        f"{JIRA}/role",
        lambda r: str(r["id"]),
        transform=_drop("actors"),
        scope="manage:jira-configuration",
    ),
    Stream(
        JIRA_PROJECTS,
        "jira",
        f"{JIRA}/project/search",
        lambda r: str(r["id"]),
        PageBean(),
        {"maxResults": 100, "expand": "lead"},
        transform=_drop("avatarUrls"),
        scope="read:jira-work",
    ),
    Stream(
        JIRA_PROJECT_ROLE_DETAILS,
        "jira",
        f"{JIRA}/project/{{projectId}}/role/{{roleId}}",
        lambda r: f"{r['projectId']}:{r['id']}",
        parent=JIRA_PROJECTS,
        fan_out=JIRA_PROJECT_ROLES,
        context=lambda project, role: {"projectId": project["id"], "roleId": (role or {}).get("id")},
        scope="manage:jira-configuration",
    ),
    Stream(
        JIRA_PROJECT_ROLE_ACTORS,
        "jira",
        "",
        lambda r: f"{r['projectId']}:{r['roleId']}:{r['type']}:{_actor_value(r)}",
        derive_from=JIRA_PROJECT_ROLE_DETAILS,
        derive=_role_actors,
    ),
    Stream(JIRA_FIELDS, "jira", f"{JIRA}/field", lambda r: str(r["id"]), scope="read:jira-work"),
    Stream(
        JIRA_LICENSE,
        "jira",
        f"{JIRA}/instance/license",
        lambda r: "license",
        scope="manage:jira-configuration",
    ),
    Stream(
        JIRA_CONFIGURATION,
        "jira",
        f"{JIRA}/configuration",
        lambda r: "configuration",
        scope="read:jira-user",
    ),
    Stream(
        JIRA_USER_CONFIGURATION,
        "jira",
        f"{JIRA}/mypreferences/locale",
        lambda r: "locale",
        scope="manage:jira-configuration",
    ),
    Stream(
        JIRA_AUDIT_RECORDS,
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
        JIRA_APPS,
        "jira",
        "/rest/plugins/1.0/",
        lambda r: str(r["key"]),
        Single(_plugins),
        marketplace=True,
        needs_api_token=True,
    ),
    Stream(
        CONFLUENCE_SETTINGS,
        "confluence",
        f"{WIKI}/settings/systemInfo",
        lambda r: "systemInfo",
        scope="manage:confluence-configuration",
    ),
    Stream(
        CONFLUENCE_LOOK_AND_FEEL,
        "confluence",
        f"{WIKI}/settings/lookandfeel",
        lambda r: "lookandfeel",
        scope="manage:confluence-configuration",
    ),
    Stream(
        CONFLUENCE_GROUPS,
        "confluence",
        f"{WIKI}/group",
        lambda r: str(r["id"]),
        StartLimitLinks(),
        {"limit": 50},
        transform=_drop("_links"),
        scope="read:confluence-groups",
    ),
    Stream(
        CONFLUENCE_GROUP_MEMBERS,
        "confluence",
        f"{WIKI}/group/{{groupId}}/membersByGroupId",
        lambda r: f"{r['groupId']}:{r['accountId']}",
        StartLimitLinks(),
        {"limit": 50},
        parent=CONFLUENCE_GROUPS,
        context=lambda g, _: {"groupId": g["id"]},
        transform=lambda r: {"groupId": r["groupId"], "accountId": r["accountId"]},
        scope="read:confluence-groups",
    ),
    Stream(
        CONFLUENCE_AUDIT_RECORDS,
        "confluence",
        f"{WIKI}/audit",
        confluence_audit_key,
        StartLimitLinks(),
        {"limit": 1000},
        bookmark_field="creationDate",
        bookmark_param="startDate",
    ),
    Stream(
        CONFLUENCE_APPS,
        "confluence",
        "/wiki/rest/plugins/1.0/",
        lambda r: str(r["key"]),
        Single(_plugins),
        marketplace=True,
        needs_api_token=True,
    ),
)
