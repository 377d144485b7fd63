"""One declarative stream per Atlassian data set: endpoint, paging style, natural key, parent,
the scope it needs, and how to shape a row. Adding a data set is a short spec here plus its test.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from appgov.connectors.atlassian.datasets import (
    CONFLUENCE_APPS,
    CONFLUENCE_AUDIT_RECORDS,
    CONFLUENCE_FORGE_INSTALLATIONS,
    CONFLUENCE_GROUP_MEMBERS,
    CONFLUENCE_GROUPS,
    CONFLUENCE_LOOK_AND_FEEL,
    CONFLUENCE_SETTINGS,
    CONFLUENCE_UPM_AUDIT_FEED,
    JIRA_APPLICATION_ROLES,
    JIRA_APPS,
    JIRA_AUDIT_RECORDS,
    JIRA_CONFIGURATION,
    JIRA_FIELDS,
    JIRA_FORGE_INSTALLATIONS,
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
    JIRA_UPM_AUDIT_FEED,
    JIRA_USER_CONFIGURATION,
    JIRA_USERS,
)
from appgov.connectors.atlassian.pagination import (
    BareArray,
    GraphQLConnection,
    OffsetLimit,
    PageBean,
    StartLimitLinks,
)
from appgov.connectors.base import Row
from appgov.connectors.paging import Single
from appgov.connectors.streams import Stream

JIRA = "/rest/api/3"
WIKI = "/wiki/rest/api"


@dataclass(frozen=True)
class AtlassianStream(Stream):
    """A data set of a product (the name's prefix: jira | confluence). The app inventory
    (``app_inventory``) is read from two sources that only Basic auth on the site reaches: the
    plugin manager and the site's GraphQL gateway (installed Forge apps, which Atlassian may list in
    either); both are enriched from the Marketplace and reconciled into ``apps`` after each complete
    pass (``apps.reconcile``), the installers named from the Jira directory. The gateway runs after
    the plugin manager (``after``), so that its pass reconciles what both list."""

    scope: str = ""  # the classic scope this data set needs over OAuth (references §1.7)
    graphql: str = ""  # a GraphQL query POSTed to the site's gateway, the cursor's params its variables
    after: str = ""  # a data set of the same product that runs first (the other app source)
    site_only: bool = False  # only Basic auth on the site reaches it (the plugin manager)
    optional: bool = False  # a 404: the site does not serve it, read as empty (not unavailable)

    @property
    def product(self) -> str:
        return self.name.partition(".")[0]

    @property
    def audit_feed(self) -> str:
        return JIRA_UPM_AUDIT_FEED if self.product == "jira" else CONFLUENCE_UPM_AUDIT_FEED

    def depends_on(self) -> list[str]:
        installers = [JIRA_USERS, self.audit_feed] if self.app_inventory else []
        return [*super().depends_on(), *installers, *([self.after] if self.after else [])]


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


def _entries(data: Any) -> list[Any]:
    return [e for e in (data or {}).get("entries", []) if e.get("id")]


# The installed Forge apps of a site's products (docs/sync.md "Where apps come from"): the query
# public clients send (Salto's jira adapter, the Forge CLI's types); ``permissions`` may be withheld
# from a site admin, so scopes and egress are read only where they are answered.
FORGE_INSTALLATIONS_QUERY = """
query appgov_forgeInstallations($contexts: [ID!]!, $first: Int, $after: String) {
  ecosystem {
    appInstallationsByContext(
      filter: { appInstallations: { contexts: $contexts } }, first: $first, after: $after
    ) {
      nodes {
        id installationContext createdAt
        createdBy { accountId name }
        app { id name vendorName }
        appEnvironment { type }
        appEnvironmentVersion { version permissions { scopes { key } egress { type addresses } } }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


def forge_installation(node: Any) -> Row:
    """An installation as an app row: the keys the plugin manager's rows have, the installer, and
    the scopes and egress (None: the gateway did not say)."""
    version = node.get("appEnvironmentVersion") or {}
    permissions = version.get("permissions")
    scopes = egress = None
    if isinstance(permissions, list):
        scopes = sorted({str(s.get("key")) for p in permissions for s in p.get("scopes") or []})
        egress = sorted(
            {str(a) for p in permissions for e in p.get("egress") or [] for a in e.get("addresses") or []}
        )
    return {
        "key": str((node.get("app") or {}).get("id")),
        "name": (node.get("app") or {}).get("name"),
        "vendor": {"name": (node.get("app") or {}).get("vendorName")},
        "version": version.get("version"),
        "context": node.get("installationContext"),
        "createdAt": node.get("createdAt"),
        "createdBy": node.get("createdBy"),
        "scopes": scopes,
        "egress": egress,
    }


def audit_feed(name: str, path: str) -> AtlassianStream:
    """The plugin manager's audit feed (Atom): whether Cloud serves it is unverified (docs/sync.md),
    so a 404 reads as an empty feed."""
    return AtlassianStream(
        name, path, lambda r: str(r["id"]), Single(_entries), site_only=True, optional=True
    )


def forge_installations(name: str, plugin_manager: str) -> AtlassianStream:
    """The product's Forge installations from the site's GraphQL gateway, after its plugin manager."""
    return AtlassianStream(
        name,
        "/gateway/api/graphql",
        lambda r: str(r["key"]),
        GraphQLConnection(("ecosystem", "appInstallationsByContext"), forge_installation),
        {"first": 100},  # one request for most sites (the gateway's largest page is unverified)
        app_inventory=True,
        graphql=FORGE_INSTALLATIONS_QUERY,
        after=plugin_manager,
    )


STREAMS: tuple[AtlassianStream, ...] = (
    AtlassianStream(
        JIRA_SERVER_INFO,
        f"{JIRA}/serverInfo",
        lambda r: "serverInfo",
        transform=_drop("serverTime"),
    ),
    AtlassianStream(
        JIRA_USERS,
        f"{JIRA}/users/search",
        _user_key,
        BareArray(),
        {"maxResults": 1000},
        transform=_drop("avatarUrls", "self"),
        scope="read:jira-user",
    ),
    AtlassianStream(
        JIRA_GROUPS,
        f"{JIRA}/group/bulk",
        lambda r: str(r["groupId"]),
        PageBean(),
        {"maxResults": 50},
        scope="read:jira-user",
    ),
    AtlassianStream(
        JIRA_GROUP_MEMBERS,
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
    AtlassianStream(
        JIRA_APPLICATION_ROLES,
        f"{JIRA}/applicationrole",
        lambda r: str(r["key"]),
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        JIRA_PERMISSIONS,
        f"{JIRA}/permissions",
        lambda r: str(r["key"]),
        Single(_permissions),
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        JIRA_PERMISSION_SCHEMES,
        f"{JIRA}/permissionscheme",
        lambda r: str(r["id"]),
        Single(lambda d: list((d or {}).get("permissionSchemes", []))),
        {"expand": "permissions"},
        scope="read:jira-work",
    ),
    AtlassianStream(
        JIRA_PERMISSION_GRANTS,
        "",
        lambda r: f"{r['schemeId']}:{r['id']}",
        derive_from=JIRA_PERMISSION_SCHEMES,
        derive=_scheme_grants,
    ),
    AtlassianStream(
        JIRA_PROJECT_ROLES,
        f"{JIRA}/role",
        lambda r: str(r["id"]),
        transform=_drop("actors"),
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        JIRA_PROJECTS,
        f"{JIRA}/project/search",
        lambda r: str(r["id"]),
        PageBean(),
        {"maxResults": 100, "expand": "lead"},
        transform=_drop("avatarUrls"),
        scope="read:jira-work",
    ),
    AtlassianStream(
        JIRA_PROJECT_ROLE_DETAILS,
        f"{JIRA}/project/{{projectId}}/role/{{roleId}}",
        lambda r: f"{r['projectId']}:{r['id']}",
        parent=JIRA_PROJECTS,
        fan_out=JIRA_PROJECT_ROLES,
        context=lambda project, role: {"projectId": project["id"], "roleId": (role or {}).get("id")},
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        JIRA_PROJECT_ROLE_ACTORS,
        "",
        lambda r: f"{r['projectId']}:{r['roleId']}:{r['type']}:{_actor_value(r)}",
        derive_from=JIRA_PROJECT_ROLE_DETAILS,
        derive=_role_actors,
    ),
    AtlassianStream(JIRA_FIELDS, f"{JIRA}/field", lambda r: str(r["id"]), scope="read:jira-work"),
    AtlassianStream(
        JIRA_LICENSE,
        f"{JIRA}/instance/license",
        lambda r: "license",
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        JIRA_CONFIGURATION,
        f"{JIRA}/configuration",
        lambda r: "configuration",
        scope="read:jira-user",
    ),
    AtlassianStream(
        JIRA_USER_CONFIGURATION,
        f"{JIRA}/mypreferences/locale",
        lambda r: "locale",
        scope="manage:jira-configuration",
    ),
    AtlassianStream(
        JIRA_AUDIT_RECORDS,
        f"{JIRA}/auditing/record",
        lambda r: str(r["id"]),
        OffsetLimit(),
        {"limit": 1000},
        bookmark_field="created",
        bookmark_param="from",
        scope="manage:jira-configuration",
    ),
    audit_feed(JIRA_UPM_AUDIT_FEED, "/rest/plugins/1.0/log/feed"),
    AtlassianStream(
        JIRA_APPS,
        "/rest/plugins/1.0/",
        lambda r: str(r["key"]),
        Single(_plugins),
        app_inventory=True,
    ),
    forge_installations(JIRA_FORGE_INSTALLATIONS, JIRA_APPS),
    AtlassianStream(
        CONFLUENCE_SETTINGS,
        f"{WIKI}/settings/systemInfo",
        lambda r: "systemInfo",
        scope="manage:confluence-configuration",
    ),
    AtlassianStream(
        CONFLUENCE_LOOK_AND_FEEL,
        f"{WIKI}/settings/lookandfeel",
        lambda r: "lookandfeel",
        scope="manage:confluence-configuration",
    ),
    AtlassianStream(
        CONFLUENCE_GROUPS,
        f"{WIKI}/group",
        lambda r: str(r["id"]),
        StartLimitLinks(),
        {"limit": 50},
        transform=_drop("_links"),
        scope="read:confluence-groups",
    ),
    AtlassianStream(
        CONFLUENCE_GROUP_MEMBERS,
        f"{WIKI}/group/{{groupId}}/membersByGroupId",
        lambda r: f"{r['groupId']}:{r['accountId']}",
        StartLimitLinks(),
        {"limit": 50},
        parent=CONFLUENCE_GROUPS,
        context=lambda g, _: {"groupId": g["id"]},
        transform=lambda r: {"groupId": r["groupId"], "accountId": r["accountId"]},
        scope="read:confluence-groups",
    ),
    AtlassianStream(
        CONFLUENCE_AUDIT_RECORDS,
        f"{WIKI}/audit",
        confluence_audit_key,
        StartLimitLinks(),
        {"limit": 1000},
        bookmark_field="creationDate",
        bookmark_param="startDate",
    ),
    audit_feed(CONFLUENCE_UPM_AUDIT_FEED, "/wiki/rest/plugins/1.0/log/feed"),
    AtlassianStream(
        CONFLUENCE_APPS,
        "/wiki/rest/plugins/1.0/",
        lambda r: str(r["key"]),
        Single(_plugins),
        app_inventory=True,
    ),
    forge_installations(CONFLUENCE_FORGE_INSTALLATIONS, CONFLUENCE_APPS),
)
