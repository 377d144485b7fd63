"""Jira projects and project roles over real HTTP: search, the deprecated list, one project, role maps."""

from __future__ import annotations

from typing import Any

from support.jira_schema import jira_truth, truth_of
from support.simulator import Simulator


def search(sim: Simulator, **params: Any) -> dict[str, Any]:
    response = sim.site_get("/rest/api/3/project/search", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_project_search_has_every_field_of_the_fact_sheet(sim: Simulator) -> None:
    page = search(sim, maxResults=1)
    assert (page["maxResults"], page["startAt"], page["isLast"]) == (1, 0, False)
    assert page["nextPage"] == f"{sim.site_url()}/rest/api/3/project/search?startAt=1&maxResults=1"
    project = page["values"][0]
    assert project["self"] == f"{sim.site_url()}/rest/api/3/project/{project['id']}"
    assert {"id", "key", "name", "avatarUrls", "simplified", "style", "insight"} <= set(project)
    assert project["simplified"] == (project["style"] == "next-gen")
    assert set(project["insight"]) == {"totalIssueCount", "lastIssueUpdateTime"}
    everything = search(sim)
    with_category = [p for p in everything["values"] if "projectCategory" in p]
    assert with_category
    assert set(with_category[0]["projectCategory"]) == {"self", "id", "name", "description"}
    assert truth_of([p["id"] for p in everything["values"]]) == jira_truth(sim)["projects"]


def test_project_search_orders_by_name_descending(sim: Simulator) -> None:
    names = [p["name"].lower() for p in search(sim, orderBy="-name")["values"]]
    assert names == sorted(names, reverse=True)


def test_project_search_filters_by_keys_query_and_type(sim: Simulator) -> None:
    everything = search(sim)["values"]
    assert [p["key"] for p in search(sim, keys=["PB", "PA"])["values"]] == ["PA", "PB"]
    assert [p["key"] for p in search(sim, query="pc")["values"]] == ["PC"]
    kind = everything[0]["projectTypeKey"]
    typed = search(sim, typeKey=kind)["values"]
    assert typed == [p for p in everything if p["projectTypeKey"] == kind]
    assert search(sim, status="archived")["values"] == []


def test_project_search_expands_the_lead(sim: Simulator) -> None:
    project = search(sim, expand="lead,description", maxResults=1)["values"][0]
    assert {"accountId", "displayName"} <= set(project["lead"])
    assert project["description"]


def test_project_search_with_an_unknown_order_is_a_400(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/project/search", params={"orderBy": "colour"})
    assert response.status_code == 400
    assert "orderBy" in response.json()["errors"]


def test_deprecated_project_list_is_every_project_unpaged(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/2/project")
    assert response.status_code == 200
    assert truth_of([p["id"] for p in response.json()]) == jira_truth(sim)["projects"]


def test_project_by_key_and_by_id_is_the_same_project_with_its_lead_and_roles(sim: Simulator) -> None:
    by_key = sim.site_get("/rest/api/3/project/pa").json()
    by_id = sim.site_get(f"/rest/api/3/project/{by_key['id']}").json()
    assert by_key == by_id
    assert by_key["key"] == "PA"
    assert "accountId" in by_key["lead"]
    assert set(by_key["roles"]) == {"Administrators", "Member", "Viewer", "atlassian-addons-project-access"}


def test_unknown_project_is_jiras_404(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/project/NOPE")
    assert response.status_code == 404
    assert response.json() == {"errorMessages": ["No project could be found with key 'NOPE'."], "errors": {}}
    by_id = sim.site_get("/rest/api/3/project/99999")
    assert by_id.json()["errorMessages"] == ["No project could be found with id '99999'."]


def test_project_role_urls_point_back_at_the_simulator_and_give_ground_truth_actors(sim: Simulator) -> None:
    actors = []
    for project in search(sim)["values"]:
        role_map = sim.site_get(f"/rest/api/2/project/{project['key']}/role").json()
        for url in role_map.values():
            assert url.startswith(f"{sim.site_url()}/rest/api/2/project/{project['id']}/role/")
            role = sim.http.get(url, headers=sim.basic()).json()
            assert url.endswith(f"/{role['id']}")
            for actor in role["actors"]:
                value = (
                    actor["actorGroup"]["groupId"]
                    if "actorGroup" in actor
                    else actor["actorUser"]["accountId"]
                )
                actors.append(f"{project['id']}:{role['id']}:{actor['type']}:{value}")
    assert truth_of(actors) == jira_truth(sim)["project_role_actors"]


def test_project_role_actors_have_the_fact_sheet_fields(sim: Simulator) -> None:
    role = sim.site_get("/rest/api/3/project/PA/role/10002").json()
    assert {"self", "name", "id", "description", "actors"} <= set(role)
    group_actor = next(a for a in role["actors"] if a["type"] == "atlassian-group-role-actor")
    assert set(group_actor["actorGroup"]) == {"name", "displayName", "groupId"}
    assert group_actor["displayName"] == group_actor["actorGroup"]["name"]


def test_unknown_project_role_is_a_404(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/project/PA/role/1")
    assert response.status_code == 404
    assert response.json()["errorMessages"] == ["The project role with id '1' does not exist."]


def test_project_roles_are_hidden_from_users_who_do_not_administer_the_project(sim: Simulator) -> None:
    def administers(key: str) -> bool:
        params = {"permissions": "ADMINISTER_PROJECTS", "projectKey": key}
        answer = sim.site_get("/rest/api/3/mypermissions", params=params, who="ordinary")
        if answer.status_code == 404:  # a project the user may not even view
            return False
        return bool(answer.json()["permissions"]["ADMINISTER_PROJECTS"]["havePermission"])

    keys = [p["key"] for p in search(sim)["values"]]
    hidden = next(k for k in keys if not administers(k))
    response = sim.site_get(f"/rest/api/3/project/{hidden}/role", who="ordinary")
    assert response.status_code == 404
    assert response.json()["errorMessages"] == [f"No project could be found with key '{hidden}'."]
    shown = [k for k in keys if administers(k)]
    assert all(
        sim.site_get(f"/rest/api/3/project/{k}/role", who="ordinary").status_code == 200 for k in shown
    )
