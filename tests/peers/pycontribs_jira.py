"""jira (pycontribs) 3.10.5: a library, so this is the loop a user writes (docs/simulator/peers.md).

The constructor calls serverInfo. Public methods cover users (a search, not a list), groups,
memberships, projects, roles, permission schemes and fields. Global roles, application roles and
the audit log have no method, so they go through the client's own ``_get_json`` as §5 says. It has
no plugin manager method. ``groups()`` keeps only group names, so the groups come from the same
picker request read with ``_get_json``, which keeps each ``groupId``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from common import actor_key, read_all, read_config, server_facts, until_total
from jira import JIRA

# user/search needs a query; on Cloud it is matched against display names and email addresses,
# and every generated user's email address is on the organization's domain.
USER_QUERY = "@"


def main() -> None:
    config = read_config()
    jira = JIRA(server=config["site_url"], basic_auth=(config["email"], config["api_token"]))

    @cache
    def groups() -> list[dict[str, Any]]:
        return list(jira._get_json("groups/picker", params={"maxResults": 9999})["groups"])

    @cache
    def projects() -> list[Any]:
        return list(jira.projects())

    read_all(
        {
            "server_info": lambda: server_facts(jira.server_info()),
            "users": lambda: [
                u.accountId for u in jira.search_users(query=USER_QUERY, maxResults=0, includeInactive=True)
            ],
            "groups": lambda: [g["groupId"] for g in groups()],
            "memberships": lambda: [
                f"{g['groupId']}:{account_id}"
                for g in groups()
                for account_id in jira.group_members(g["name"])
            ],
            "projects": lambda: [p.id for p in projects()],
            "project_roles": lambda: [str(r["id"]) for r in jira._get_json("role")],
            "project_role_actors": lambda: [key for p in projects() for key in role_actors(jira, p)],
            "permission_schemes": lambda: [str(s["id"]) for s in jira.permissionschemes()],
            "fields": lambda: [f["id"] for f in jira.fields()],
            "application_roles": lambda: [r["key"] for r in jira._get_json("applicationrole")],
            "audit_records": lambda: [
                str(r["id"])
                for r in until_total(
                    lambda offset: jira._get_json("auditing/record", params={"offset": offset, "limit": 1000})
                )
            ],
        },
        config,
    )


def role_actors(jira: JIRA, project: Any) -> list[str]:
    return [
        actor_key(project.id, int(role["id"]), actor)
        for role in jira.project_roles(project.key).values()
        for actor in jira.project_role(project.key, role["id"]).raw.get("actors", [])
    ]


if __name__ == "__main__":
    main()
