"""One declarative stream per Atlassian data set: endpoint, paging style, natural key, parent,
the scope it needs, and how to shape a row. Adding a data set is a short spec here plus its test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from appgov.connectors.atlassian.pagination import BareArray, OffsetLimit, PageBean, StartLimitLinks
from appgov.connectors.base import Row
from appgov.connectors.paging import Single
from appgov.connectors.streams import Stream

JIRA = "/rest/api/3"
WIKI = "/wiki/rest/api"


@dataclass(frozen=True)
class AtlassianStream(Stream):
    """A data set of a product (the name's prefix: jira | confluence). The app inventory
    (``app_inventory``) is read from the plugin manager, which only Basic auth on the site reaches,
    enriched from the Marketplace, and reconciled into ``apps`` after each complete pass, with the
    installers from the product's audit log."""

    scope: str = ""  # the classic scope this data set needs over OAuth (api-facts §1.7)

    @property
    def product(self) -> str:
        return self.name.partition(".")[0]

    @property
    def audit_log(self) -> str:
        return f"{self.product}.audit_records"

    def depends_on(self) -> list[str]:
        return [*super().depends_on(), *([self.audit_log] if self.app_inventory else [])]


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


STREAMS: tuple[AtlassianStream, ...] = (
    AtlassianStream(
        "jira.server_info",
        f"{JIRA}/serverInfo",
        lambda r: "serverInfo",
        transform=_drop("serverTime"),
    ),
    AtlassianStream(
        "jira.users",
        f"{JIRA}/users/search",
        _user_key,
        BareArray(),
        {"maxResults": 1000},
        transform=_drop("avatarUrls", "self"),
        scope="read:jira-user",
    ),
    AtlassianStream(
        "jira.groups",
        f"{JIRA}/group/bulk",
        lambda r: str(r["groupId"]),
        PageBean(),
        {"maxResults": 50},
        scope="read:jira-user",
    ),
    AtlassianStream(
        "jira.group_members",
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
    AtlassianStream(
        "jira.application_roles",
        f"{JIRA}/applicationrole",
        lambda r: str(r["key"]),
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        "jira.permissions",
        f"{JIRA}/permissions",
        lambda r: str(r["key"]),
        Single(_permissions),
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        "jira.permission_schemes",
        f"{JIRA}/permissionscheme",
        lambda r: str(r["id"]),
        Single(lambda d: list((d or {}).get("permissionSchemes", []))),
        {"expand": "permissions"},
        scope="read:jira-work",
    ),
    AtlassianStream(
        "jira.permission_grants",
        "",
        lambda r: f"{r['schemeId']}:{r['id']}",
        derive_from="jira.permission_schemes",
        derive=_scheme_grants,
    ),
    AtlassianStream(
        "jira.project_roles",
        f"{JIRA}/role",
        lambda r: str(r["id"]),
        transform=_drop("actors"),
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        "jira.projects",
        f"{JIRA}/project/search",
        lambda r: str(r["id"]),
        PageBean(),
        {"maxResults": 100, "expand": "lead"},
        transform=_drop("avatarUrls"),
        scope="read:jira-work",
    ),
    AtlassianStream(
        "jira.project_role_details",
        f"{JIRA}/project/{{projectId}}/role/{{roleId}}",
        lambda r: f"{r['projectId']}:{r['id']}",
        parent="jira.projects",
        fan_out="jira.project_roles",
        context=lambda project, role: {"projectId": project["id"], "roleId": (role or {}).get("id")},
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        "jira.project_role_actors",
        "",
        lambda r: f"{r['projectId']}:{r['roleId']}:{r['type']}:{_actor_value(r)}",
        derive_from="jira.project_role_details",
        derive=_role_actors,
    ),
    AtlassianStream("jira.fields", f"{JIRA}/field", lambda r: str(r["id"]), scope="read:jira-work"),
    AtlassianStream(
        "jira.license",
        f"{JIRA}/instance/license",
        lambda r: "license",
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        "jira.configuration",
        f"{JIRA}/configuration",
        lambda r: "configuration",
        scope="read:jira-user",
    ),
    AtlassianStream(
        "jira.user_configuration",
        f"{JIRA}/mypreferences/locale",
        lambda r: "locale",
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        "jira.audit_records",
        f"{JIRA}/auditing/record",
        lambda r: str(r["id"]),
        OffsetLimit(),
        {"limit": 1000},
        bookmark_field="created",
        bookmark_param="from",
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        "jira.apps",
        "/rest/plugins/1.0/",
        lambda r: str(r["key"]),
        Single(_plugins),
        app_inventory=True,
    ),
    AtlassianStream(
        "confluence.settings",
        f"{WIKI}/settings/systemInfo",
        lambda r: "systemInfo",
        scope="manage:confluence-configuration",
    ),
    AtlassianStream(
        "confluence.look_and_feel",
        f"{WIKI}/settings/lookandfeel",
        lambda r: "lookandfeel",
        scope="manage:confluence-configuration",
    ),
    AtlassianStream(
        "confluence.groups",
        f"{WIKI}/group",
        lambda r: str(r["id"]),
        StartLimitLinks(),
        {"limit": 50},
        transform=_drop("_links"),
        scope="read:confluence-groups",
    ),
    AtlassianStream(
        "confluence.group_members",
        f"{WIKI}/group/{{groupId}}/membersByGroupId",
        lambda r: f"{r['groupId']}:{r['accountId']}",
        StartLimitLinks(),
        {"limit": 50},
        parent="confluence.groups",
        context=lambda g, _: {"groupId": g["id"]},
        transform=lambda r: {"groupId": r["groupId"], "accountId": r["accountId"]},
        scope="read:confluence-groups",
    ),
    AtlassianStream(
        "confluence.audit_records",
        f"{WIKI}/audit",
        lambda r: str(r["creationDate"]),
        StartLimitLinks(),
        {"limit": 1000},
        bookmark_field="creationDate",
        bookmark_param="startDate",
    ),
    AtlassianStream(
        "confluence.apps",
        "/wiki/rest/plugins/1.0/",
        lambda r: str(r["key"]),
        Single(_plugins),
        app_inventory=True,
    ),
)
