"""Jira groups over real HTTP: group/bulk, group/member and the legacy group endpoint."""

from __future__ import annotations

from support.jira_schema import jira_truth, truth_of
from support.simulator import Simulator


def test_group_bulk_lists_every_group_with_the_fact_sheet_fields(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/group/bulk", params={"maxResults": 2})
    assert response.status_code == 200
    page = response.json()
    assert list(page) == ["self", "nextPage", "maxResults", "startAt", "total", "isLast", "values"]
    assert page["self"] == f"{sim.site_url()}/rest/api/3/group/bulk?startAt=0&maxResults=2"
    assert page["nextPage"] == f"{sim.site_url()}/rest/api/3/group/bulk?startAt=2&maxResults=2"
    assert (page["maxResults"], page["startAt"], page["isLast"]) == (2, 0, False)
    assert all(set(g) == {"name", "groupId"} for g in page["values"])
    everything = sim.site_get("/rest/api/3/group/bulk").json()
    assert everything["isLast"] is True
    assert "nextPage" not in everything
    assert truth_of([g["groupId"] for g in everything["values"]]) == jira_truth(sim)["groups"]


def test_group_bulk_filters_by_group_id_and_group_name(sim: Simulator) -> None:
    groups = sim.site_get("/rest/api/3/group/bulk").json()["values"]
    first, second = groups[0], groups[1]
    params = [("groupId", first["groupId"]), ("groupName", second["name"])]
    found = sim.site_get("/rest/api/3/group/bulk", params=params).json()
    assert found["values"] == [first, second]
    assert found["total"] == 2


def test_group_member_lists_active_members_by_default(sim: Simulator) -> None:
    groups = sim.site_get("/rest/api/3/group/bulk").json()["values"]
    for group in groups:
        everyone = sim.site_get(
            "/rest/api/3/group/member", params={"groupId": group["groupId"], "includeInactiveUsers": "true"}
        ).json()["values"]
        active = sim.site_get("/rest/api/3/group/member", params={"groupId": group["groupId"]}).json()[
            "values"
        ]
        assert active == [u for u in everyone if u["active"]]


def test_group_member_values_are_user_details_without_locale(sim: Simulator) -> None:
    page = sim.site_get("/rest/api/3/group/member", params={"groupname": "site-admins"}).json()
    assert page["total"] == len(page["values"]) == 2  # Ada Admin and Eve Expired
    for user in page["values"]:
        assert set(user) == {
            "self",
            "accountId",
            "accountType",
            "emailAddress",
            "avatarUrls",
            "displayName",
            "active",
            "timeZone",
        }


def test_group_member_of_an_unknown_group_is_jiras_404(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/group/member", params={"groupname": "jira-administrators"})
    assert response.status_code == 404
    assert response.json() == {
        "errorMessages": ["The group named 'jira-administrators' does not exist."],
        "errors": {},
    }
    by_id = sim.site_get(
        "/rest/api/3/group/member", params={"groupId": "00000000-0000-0000-0000-000000000000"}
    )
    assert by_id.status_code == 404


def test_group_member_without_a_group_is_a_400(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/group/member")
    assert response.status_code == 400
    assert response.json()["errorMessages"] == ["Either the group name or the group ID must be provided."]


def test_legacy_group_pages_members_with_inclusive_ranges(sim: Simulator) -> None:
    bulk = sim.site_get("/rest/api/3/group/bulk").json()["values"]
    name = next(g["name"] for g in bulk if g["name"] == "engineering-all")
    everyone = sim.site_get(
        "/rest/api/3/group/member", params={"groupname": name, "includeInactiveUsers": "true"}
    ).json()["values"]
    first = sim.site_get("/rest/api/2/group", params={"groupname": name, "expand": "users"}).json()
    assert first["users"]["size"] == len(everyone)
    assert first["users"]["start-index"] == 0
    assert [u["accountId"] for u in first["users"]["items"]] == [u["accountId"] for u in everyone]
    middle = sim.site_get("/rest/api/2/group", params={"groupname": name, "expand": "users[2:4]"}).json()
    assert (middle["users"]["start-index"], middle["users"]["end-index"]) == (2, 4)
    assert [u["accountId"] for u in middle["users"]["items"]] == [u["accountId"] for u in everyone[2:5]]


def test_legacy_group_without_expand_has_no_users(sim: Simulator) -> None:
    group = sim.site_get("/rest/api/3/group", params={"groupname": "jira-admins"}).json()
    assert group["name"] == "jira-admins"
    assert group["users"]["items"] == []
    assert group["users"]["size"] == 1


def test_legacy_group_with_a_malformed_range_is_a_400(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/group", params={"groupname": "jira-admins", "expand": "users[a:b]"})
    assert response.status_code == 400
    assert "expand" in response.json()["errors"]


def test_groups_picker_finds_groups_by_name_fragment_with_found_groups_shape(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/groups/picker", params={"query": "ADMIN", "maxResults": 50})
    assert response.status_code == 200
    body = response.json()
    names = [g["name"] for g in body["groups"]]
    assert "site-admins" in names
    assert all("admin" in name.lower() for name in names)
    assert body["total"] == len(names)
    assert body["header"] == f"Showing {len(names)} of {len(names)} matching groups"
    assert set(body["groups"][0]) == {"name", "html", "labels", "groupId"}
