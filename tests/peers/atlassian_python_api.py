"""atlassian-python-api 5.0.5: a library, so this is the loop a user writes (docs/simulator/peers.md).

The legacy ``Jira(cloud=True)`` class has every helper we need (memberships, role actors, UPM) but
reads groups only through the capped group picker, so groups come from ``JiraCloud.bulk_get_groups``.
Confluence groups and members come from the Cloud ``Confluence`` class; Confluence's plugin manager
has no method in this library, so it is read with the generic ``get`` as docs/simulator/peers.md says.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from atlassian import Confluence, Jira, JiraCloud
from common import (
    actor_key,
    read_all,
    read_config,
    server_facts,
    until_last,
    until_no_next,
    until_short,
    until_total,
    user_installed,
)

PAGE = 1000  # asked for everywhere; the server caps it


def main() -> None:
    config = read_config()
    auth: dict[str, Any] = {"username": config["email"], "password": config["api_token"]}
    jira = Jira(config["site_url"], cloud=True, **auth)
    cloud = JiraCloud(config["site_url"], **auth)
    confluence = Confluence(config["site_url"], cloud=True, **auth)

    @cache
    def groups() -> list[dict[str, Any]]:
        return list(until_last(lambda start: cloud.bulk_get_groups(start_at=start, max_results=PAGE)))

    @cache
    def projects() -> list[dict[str, Any]]:
        return list(jira.projects())

    @cache
    def schemes() -> list[dict[str, Any]]:
        return list(jira.get_all_permissionschemes(expand="permissions"))

    @cache
    def confluence_groups() -> list[dict[str, Any]]:
        return list(until_no_next(lambda start: confluence.get_groups(start=start, limit=PAGE)))

    read_all(
        {
            "server_info": lambda: server_facts(jira.get_server_info()),
            "users": lambda: [
                u["accountId"] for u in until_short(lambda start: jira.users_get_all(start=start, limit=PAGE))
            ],
            "groups": lambda: [g["groupId"] for g in groups()],
            "memberships": lambda: [
                f"{g['groupId']}:{member['accountId']}" for g in groups() for member in jira_members(jira, g)
            ],
            "projects": lambda: [p["id"] for p in projects()],
            "project_roles": lambda: [str(r["id"]) for r in jira.get_all_global_project_roles()],
            "project_role_actors": lambda: [key for p in projects() for key in role_actors(jira, p)],
            "permission_schemes": lambda: [str(s["id"]) for s in schemes()],
            "permission_grants": lambda: [
                f"{s['id']}:{g['id']}" for s in schemes() for g in s["permissions"]
            ],
            "fields": lambda: [f["id"] for f in jira.get_all_fields()],
            "application_roles": lambda: [r["key"] for r in jira.get_all_application_roles()],
            "audit_records": lambda: [
                str(r["id"])
                for r in until_total(lambda offset: jira.get_audit_records(offset=offset, limit=PAGE))
            ],
            "apps": lambda: user_installed(jira.get_plugins_info()),
            "confluence_groups": lambda: [g["id"] for g in confluence_groups()],
            "confluence_group_members": lambda: [
                f"{g['id']}:{member['accountId']}"
                for g in confluence_groups()
                for member in confluence_members(confluence, g)
            ],
            "confluence_apps": lambda: user_installed(
                confluence.get("wiki/rest/plugins/1.0/", trailing=True, headers=confluence.no_check_headers)
            ),
        },
        config,
    )


def jira_members(jira: Jira, group: dict[str, Any]) -> list[dict[str, Any]]:
    return list(
        until_last(
            lambda start: jira.get_all_users_from_group(
                group["name"], include_inactive_users=True, start=start, limit=PAGE
            )
        )
    )


def confluence_members(confluence: Confluence, group: dict[str, Any]) -> list[dict[str, Any]]:
    return list(
        until_no_next(lambda start: confluence.get_group_members(group["id"], start=start, limit=PAGE))
    )


def role_actors(jira: Jira, project: dict[str, Any]) -> list[str]:
    """Every actor of every role of the project; the role map's URLs end in the role id."""
    role_urls = jira.get_project_roles(project["key"]).values()
    role_ids = [int(url.rstrip("/").rsplit("/", 1)[-1]) for url in role_urls]
    return [
        actor_key(project["id"], role_id, actor)
        for role_id in role_ids
        for actor in jira.get_project_actors_for_role_project(project["key"], role_id)
    ]


if __name__ == "__main__":
    main()
