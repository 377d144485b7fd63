"""Every Jira response the simulator serves validates against Atlassian's own OpenAPI schemas."""

from __future__ import annotations

from typing import Any

import pytest

from support.jira_schema import violations
from support.simulator import Simulator

GROUP_TEMPLATE = "/rest/api/3/group"
AUDIT_TEMPLATE = "/rest/api/3/auditing/record"

# (operation path in the spec, path the test calls)
TINY_CALLS: list[tuple[str, str]] = [
    ("/rest/api/3/serverInfo", "/rest/api/3/serverInfo"),
    ("/rest/api/3/myself", "/rest/api/3/myself?expand=groups,applicationRoles"),
    ("/rest/api/3/myself", "/rest/api/3/myself"),
    ("/rest/api/3/users/search", "/rest/api/3/users/search"),
    ("/rest/api/3/users", "/rest/api/3/users"),
    ("/rest/api/3/user/search", "/rest/api/3/user/search?query=a"),
    ("/rest/api/3/applicationrole", "/rest/api/3/applicationrole"),
    ("/rest/api/3/applicationrole/{key}", "/rest/api/3/applicationrole/jira-software"),
    (AUDIT_TEMPLATE, "/rest/api/3/auditing/record"),
    (AUDIT_TEMPLATE, "/rest/api/3/auditing/record?filter=app"),
    ("/rest/api/3/group/bulk", "/rest/api/3/group/bulk?maxResults=3"),
    ("/rest/api/3/permissions", "/rest/api/3/permissions"),
    ("/rest/api/3/mypermissions", "/rest/api/3/mypermissions?permissions=BROWSE_PROJECTS,ADMINISTER"),
    ("/rest/api/3/mypermissions", "/rest/api/3/mypermissions?permissions=EDIT_ISSUES&projectKey=PA"),
    ("/rest/api/3/permissionscheme", "/rest/api/3/permissionscheme"),
    ("/rest/api/3/permissionscheme", "/rest/api/3/permissionscheme?expand=all"),
    ("/rest/api/3/permissionscheme/{schemeId}", "/rest/api/3/permissionscheme/10000?expand=permissions"),
    ("/rest/api/3/permissionscheme/{schemeId}/permission", "/rest/api/3/permissionscheme/10001/permission"),
    ("/rest/api/3/role", "/rest/api/3/role"),
    ("/rest/api/3/role/{id}", "/rest/api/3/role/10002"),
    ("/rest/api/3/project/{projectIdOrKey}/role", "/rest/api/3/project/PA/role"),
    ("/rest/api/3/project/{projectIdOrKey}/role/{id}", "/rest/api/3/project/PA/role/10100"),
    ("/rest/api/3/project/{projectIdOrKey}/role/{id}", "/rest/api/3/project/10001/role/10000"),
    ("/rest/api/3/configuration", "/rest/api/3/configuration"),
    ("/rest/api/3/instance/license", "/rest/api/3/instance/license"),
    ("/rest/api/3/field", "/rest/api/3/field"),
    ("/rest/api/3/project", "/rest/api/3/project?expand=description,lead"),
    ("/rest/api/3/project/{projectIdOrKey}", "/rest/api/3/project/PB"),
    ("/rest/api/3/project/search", "/rest/api/3/project/search?expand=description,lead,insight"),
    ("/rest/api/3/avatar/{type}/system", "/rest/api/3/avatar/issuetype/system"),
    ("/rest/api/3/avatar/{type}/system", "/rest/api/3/avatar/project/system"),
    ("/rest/api/3/avatar/{type}/system", "/rest/api/3/avatar/user/system"),
    ("/rest/api/3/avatar/{type}/system", "/rest/api/3/avatar/priority/system"),
    ("/rest/api/3/mypreferences", "/rest/api/3/mypreferences?key=user.notifications.mimetype"),
    ("/rest/api/3/mypreferences/locale", "/rest/api/3/mypreferences/locale"),
    (GROUP_TEMPLATE, "/rest/api/3/group?groupname=jira-software-users&expand=users"),
    (GROUP_TEMPLATE, "/rest/api/3/group?groupname=jira-software-users"),
    ("/rest/api/3/group/member", "/rest/api/3/group/member?groupname=engineering-all"),
    ("/rest/api/3/users/search", "/rest/api/2/users/search?maxResults=5"),
    ("/rest/api/3/project/search", "/rest/api/latest/project/search?maxResults=2"),
]

# The biggest pages, on the small tenant: full-size pages of every paged endpoint.
SMALL_CALLS: list[tuple[str, str]] = [
    ("/rest/api/3/users/search", "/rest/api/3/users/search?startAt=1000&maxResults=1000"),
    ("/rest/api/3/group/bulk", "/rest/api/3/group/bulk?startAt=50&maxResults=50"),
    (
        "/rest/api/3/group/member",
        "/rest/api/3/group/member?groupname=engineering-all&includeInactiveUsers=true",
    ),
    ("/rest/api/3/project/search", "/rest/api/3/project/search?startAt=100&maxResults=100&expand=lead"),
    (AUDIT_TEMPLATE, "/rest/api/3/auditing/record?offset=1000&limit=1000"),
    ("/rest/api/3/field", "/rest/api/3/field"),
    ("/rest/api/3/role", "/rest/api/3/role"),
    ("/rest/api/3/permissionscheme", "/rest/api/3/permissionscheme?expand=permissions"),
]


def served(sim: Simulator, path: str) -> Any:
    response = sim.site_get(path)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("template", "path"), TINY_CALLS, ids=[p for _, p in TINY_CALLS])
def test_tiny_tenant_response_validates_against_atlassians_schema(
    sim: Simulator, template: str, path: str
) -> None:
    assert violations(template, served(sim, path)) == []


@pytest.mark.parametrize(("template", "path"), SMALL_CALLS, ids=[p for _, p in SMALL_CALLS])
def test_full_page_on_small_tenant_validates_against_atlassians_schema(
    sim_small: Simulator, template: str, path: str
) -> None:
    assert violations(template, served(sim_small, path)) == []


def test_gateway_response_validates_against_atlassians_schema(sim: Simulator) -> None:
    token = sim.mint_grant(["read:jira-user"])["access_token"]
    cloud_id = sim.site()["cloud_id"]
    response = sim.get(
        f"/ex/jira/{cloud_id}/rest/api/3/myself?expand=groups",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert violations("/rest/api/3/myself", response.json()) == []


def test_a_field_beyond_the_schema_and_the_fact_sheet_is_a_violation(sim: Simulator) -> None:
    body = served(sim, "/rest/api/3/auditing/record?limit=1")
    body["records"][0]["authorName"] = "not in the schema, not observed from the real cloud"
    assert any("authorName" in line for line in violations(AUDIT_TEMPLATE, body))


def test_a_timestamp_in_another_format_is_a_violation(sim: Simulator) -> None:
    body = served(sim, "/rest/api/3/serverInfo")
    body["serverTime"] = "yesterday"
    assert any("serverTime" in line for line in violations("/rest/api/3/serverInfo", body))
