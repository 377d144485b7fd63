"""Jira configuration over real HTTP: application roles, permissions, schemes, roles, fields, avatars,
license, global settings and preferences."""

from __future__ import annotations

import pytest

from support.jira_schema import jira_truth, truth_of
from support.simulator import Simulator


def test_application_roles_have_every_field_of_the_fact_sheet(sim: Simulator) -> None:
    roles = sim.site_get("/rest/api/3/applicationrole").json()
    assert truth_of([r["key"] for r in roles]) == jira_truth(sim)["application_roles"]
    software = next(r for r in roles if r["key"] == "jira-software")
    assert set(software) == {
        "key", "name", "groups", "groupDetails", "defaultGroups", "defaultGroupsDetails",
        "selectedByDefault", "defined", "numberOfSeats", "remainingSeats", "userCount",
        "userCountDescription", "hasUnlimitedSeats", "platform",
    }  # fmt: skip
    assert software["groups"] == [g["name"] for g in software["groupDetails"]]
    assert software["remainingSeats"] == software["numberOfSeats"] - software["userCount"]
    assert software["userCountDescription"] == f"{software['userCount']} developers"
    assert all(
        g["self"].endswith(f"/rest/api/3/group?groupId={g['groupId']}") for g in software["groupDetails"]
    )
    one = sim.site_get("/rest/api/3/applicationrole/jira-software").json()
    assert one == software


def test_unknown_application_role_is_a_404(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/applicationrole/jira-core")
    assert response.status_code == 404
    assert response.json()["errorMessages"] == ["The application role 'jira-core' does not exist."]


def test_permissions_lists_every_permission_anonymously(sim: Simulator) -> None:
    response = sim.get(sim.site_url() + "/rest/api/3/permissions")
    assert response.status_code == 200
    assert "X-AAccountId" not in response.headers
    permissions = response.json()["permissions"]
    assert permissions["BROWSE_PROJECTS"] == {
        "key": "BROWSE_PROJECTS",
        "name": "Browse Projects",
        "type": "PROJECT",
        "description": "Ability to browse projects and the issues within them.",
    }
    assert permissions["ADMINISTER"]["type"] == "GLOBAL"


def test_my_permissions_differ_between_an_admin_and_an_ordinary_user(sim: Simulator) -> None:
    params = {"permissions": "ADMINISTER,USER_PICKER,BROWSE_PROJECTS"}
    admin = sim.site_get("/rest/api/3/mypermissions", params=params).json()["permissions"]
    ordinary = sim.site_get("/rest/api/3/mypermissions", params=params, who="ordinary").json()["permissions"]
    assert {k: v["havePermission"] for k, v in admin.items()} == {
        "ADMINISTER": True,
        "USER_PICKER": True,
        "BROWSE_PROJECTS": True,
    }
    assert ordinary["ADMINISTER"]["havePermission"] is False
    assert ordinary["USER_PICKER"]["havePermission"] is True
    assert set(admin["ADMINISTER"]) == {"id", "key", "name", "type", "description", "havePermission"}


def test_my_permissions_in_an_unknown_project_is_a_404(sim: Simulator) -> None:
    params = {"permissions": "BROWSE_PROJECTS", "projectKey": "NOPE"}
    response = sim.site_get("/rest/api/3/mypermissions", params=params)
    assert response.status_code == 404


@pytest.mark.parametrize("permissions", [None, "", "NOT_A_PERMISSION"])
def test_my_permissions_without_valid_keys_is_a_400(sim: Simulator, permissions: str | None) -> None:
    params = {"permissions": permissions} if permissions is not None else {}
    response = sim.site_get("/rest/api/3/mypermissions", params=params)
    assert response.status_code == 400
    assert response.json()["errorMessages"]


def test_permission_schemes_expand_to_the_ground_truth_grants(sim: Simulator) -> None:
    plain = sim.site_get("/rest/api/3/permissionscheme").json()["permissionSchemes"]
    assert all("permissions" not in s for s in plain)
    schemes = sim.site_get("/rest/api/3/permissionscheme", params={"expand": "permissions"}).json()
    schemes = schemes["permissionSchemes"]
    truth = jira_truth(sim)
    assert truth_of([str(s["id"]) for s in schemes]) == truth["permission_schemes"]
    grants = [f"{s['id']}:{g['id']}" for s in schemes for g in s["permissions"]]
    assert truth_of(grants) == truth["permission_grants"]
    default = schemes[0]
    assert (default["id"], default["name"]) == (10000, "Default Permission Scheme")
    assert default["self"] == f"{sim.site_url()}/rest/api/3/permissionscheme/10000"
    group_grant = next(g for s in schemes for g in s["permissions"] if g["holder"]["type"] == "group")
    assert set(group_grant) == {"id", "self", "permission", "holder"}
    assert group_grant["holder"]["parameter"] == "jira-admins"
    assert group_grant["holder"]["expand"] == "group"
    assert group_grant["holder"]["value"] != "jira-admins"  # the group's id


def test_one_permission_scheme_and_its_grants(sim: Simulator) -> None:
    scheme = sim.site_get("/rest/api/3/permissionscheme/10001", params={"expand": "all"}).json()
    grants = sim.site_get("/rest/api/3/permissionscheme/10001/permission").json()["permissions"]
    assert scheme["permissions"] == grants


@pytest.mark.parametrize("scheme_id", ["99999", "abc"])
def test_unknown_permission_scheme_is_a_404(sim: Simulator, scheme_id: str) -> None:
    response = sim.site_get(f"/rest/api/3/permissionscheme/{scheme_id}")
    assert response.status_code == 404
    assert response.json() == {
        "errorMessages": [f"The permission scheme with id '{scheme_id}' does not exist."],
        "errors": {},
    }


def test_roles_list_the_ground_truth_roles_with_default_actors(sim: Simulator) -> None:
    roles = sim.site_get("/rest/api/3/role").json()
    assert truth_of([str(r["id"]) for r in roles]) == jira_truth(sim)["project_roles"]
    admins = next(r for r in roles if r["name"] == "Administrators")
    assert admins["self"] == f"{sim.site_url()}/rest/api/3/role/10002"
    assert admins["actors"][0]["actorGroup"]["name"] == "jira-admins"
    assert sim.site_get("/rest/api/3/role/10002").json() == admins
    assert sim.site_get("/rest/api/3/role/424242").status_code == 404


def test_configuration_is_the_fact_sheet_example(sim: Simulator) -> None:
    assert sim.site_get("/rest/api/3/configuration").json() == {
        "votingEnabled": True,
        "watchingEnabled": True,
        "unassignedIssuesAllowed": False,
        "subTasksEnabled": True,
        "issueLinkingEnabled": True,
        "timeTrackingEnabled": True,
        "attachmentsEnabled": True,
        "timeTrackingConfiguration": {
            "workingHoursPerDay": 8.0,
            "workingDaysPerWeek": 5.0,
            "timeFormat": "pretty",
            "defaultUnit": "minute",
        },
    }


def test_license_lists_the_plan_of_each_jira_product(sim: Simulator) -> None:
    assert sim.site_get("/rest/api/3/instance/license").json() == {
        "applications": [{"id": "jira-software", "plan": "PAID"}, {"id": "jira-servicedesk", "plan": "FREE"}]
    }


def test_fields_are_the_ground_truth_fields_with_the_fact_sheet_shape(sim: Simulator) -> None:
    fields = sim.get(sim.site_url() + "/rest/api/3/field").json()  # anonymous allowed
    assert truth_of([f["id"] for f in fields]) == jira_truth(sim)["fields"]
    assert fields[0] == {
        "id": "summary",
        "key": "summary",
        "name": "Summary",
        "custom": False,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": ["summary"],
        "schema": {"type": "string", "system": "summary"},
    }
    custom = next(f for f in fields if f["custom"])
    assert custom["schema"]["customId"] == int(custom["id"].removeprefix("customfield_"))


@pytest.mark.parametrize("kind", ["issuetype", "project", "user", "priority"])
def test_system_avatars_of_each_owner_type(sim: Simulator, kind: str) -> None:
    avatars = sim.site_get(f"/rest/api/3/avatar/{kind}/system").json()["system"]
    assert avatars
    first = avatars[0]
    assert (first["isSystemAvatar"], first["isSelected"], first["isDeletable"]) == (True, False, False)
    assert (
        first["urls"]["16x16"] == f"/secure/useravatar?size=xsmall&avatarId={first['id']}&avatarType={kind}"
    )
    assert set(first["urls"]) == {"16x16", "24x24", "32x32", "48x48"}


def test_system_avatars_of_an_unknown_type_is_a_400(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/avatar/dragon/system")
    assert response.status_code == 400
    assert "type" in response.json()["errors"]


def test_my_preferences_answer_a_json_string_per_key(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/mypreferences", params={"key": "jira.user.timezone"})
    assert response.status_code == 200
    assert response.json() == "Europe/London"
    assert sim.site_get("/rest/api/3/mypreferences").status_code == 404
    assert sim.site_get("/rest/api/3/mypreferences", params={"key": "no.such.key"}).status_code == 404


def test_my_locale_is_the_users_or_the_site_default_for_anonymous_callers(sim: Simulator) -> None:
    assert sim.site_get("/rest/api/3/mypreferences/locale").json() == {"locale": "en_GB"}
    anonymous = sim.get(sim.site_url() + "/rest/api/3/mypreferences/locale")
    assert anonymous.json() == {"locale": "en_US"}
