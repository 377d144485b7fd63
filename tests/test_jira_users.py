"""Jira users over real HTTP: myself, user, users/search and user/search, on every REST path."""

from __future__ import annotations

import pytest

from support.jira_schema import jira_truth, truth_of
from support.simulator import Simulator

AVATAR_SIZES = {"16x16", "24x24", "32x32", "48x48"}


def test_users_search_pages_through_every_user_with_the_1000_cap(sim_small: Simulator) -> None:
    seen: list[str] = []
    start = 0
    pages = 0
    while True:
        response = sim_small.site_get(
            "/rest/api/3/users/search", params={"startAt": start, "maxResults": 5000}
        )
        assert response.status_code == 200
        page = response.json()
        assert isinstance(page, list)
        assert len(page) <= 1000
        seen += [user["accountId"] for user in page]
        pages += 1
        if len(page) < 1000:
            break
        start += len(page)
    assert pages >= 3
    assert truth_of(seen) == jira_truth(sim_small)["users"]


def test_users_search_without_credentials_is_401_with_the_seraph_header(sim: Simulator) -> None:
    response = sim.get(sim.site_url() + "/rest/api/3/users/search")
    assert response.status_code == 401
    assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert response.json() == {
        "message": "Client must be authenticated to access this resource.",
        "status-code": 401,
    }


def test_garbage_start_at_is_a_400_error_collection(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/users/search", params={"startAt": "abc"})
    assert response.status_code == 400
    assert "startAt" in response.json()["errors"]


def test_myself_expanded_has_every_field_of_the_fact_sheet(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/myself", params={"expand": "groups,applicationRoles"})
    assert response.status_code == 200
    admin = sim.state["accounts"]["site_admin"]
    assert response.headers["X-AAccountId"] == admin["account_id"]
    me = response.json()
    assert me["self"] == f"{sim.site_url()}/rest/api/3/user?accountId={admin['account_id']}"
    assert (me["accountId"], me["accountType"], me["emailAddress"]) == (
        admin["account_id"],
        "atlassian",
        admin["email"],
    )
    assert (me["displayName"], me["active"], me["timeZone"], me["locale"]) == (
        "Ada Admin",
        True,
        "Europe/London",
        "en_GB",
    )
    assert set(me["avatarUrls"]) == AVATAR_SIZES
    assert me["expand"] == "groups,applicationRoles"
    assert me["groups"]["size"] == len(me["groups"]["items"])
    assert {"site-admins", "jira-admins"} <= {g["name"] for g in me["groups"]["items"]}
    assert all(set(g) == {"name", "groupId"} for g in me["groups"]["items"])
    assert {r["key"] for r in me["applicationRoles"]["items"]} == {"jira-software", "jira-servicedesk"}
    assert all(set(r) == {"key", "name"} for r in me["applicationRoles"]["items"])


def test_myself_without_expand_gives_sizes_but_no_items(sim: Simulator) -> None:
    me = sim.site_get("/rest/api/3/myself").json()
    assert me["groups"]["size"] > 0
    assert me["groups"]["items"] == []
    assert me["applicationRoles"]["items"] == []


@pytest.mark.parametrize("version", ["2", "3", "latest"])
def test_myself_answers_on_every_rest_version_with_links_on_that_version(
    sim: Simulator, version: str
) -> None:
    me = sim.site_get(f"/rest/api/{version}/myself").json()
    assert me["self"].startswith(f"{sim.site_url()}/rest/api/{version}/user?accountId=")


def test_myself_through_the_gateway_links_back_to_the_gateway(sim: Simulator) -> None:
    token = sim.mint_grant(["read:jira-user"])["access_token"]
    base = f"{sim.url}/ex/jira/{sim.site()['cloud_id']}"
    response = sim.get(f"{base}/rest/api/3/myself", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["X-AAccountId"] == sim.state["accounts"]["site_admin"]["account_id"]
    assert response.json()["self"].startswith(f"{base}/rest/api/3/user?accountId=")


def test_app_users_have_an_app_type_and_no_email(sim: Simulator) -> None:
    users = sim.site_get("/rest/api/3/users/search").json()
    apps = [u for u in users if u["accountType"] == "app"]
    assert apps
    assert all(u["appType"] == "service" and "emailAddress" not in u for u in apps)
    assert all("emailAddress" in u for u in users if u["accountType"] == "atlassian")


def test_user_by_account_id_expands_groups(sim: Simulator) -> None:
    ordinary = sim.state["accounts"]["ordinary"]
    response = sim.site_get(
        "/rest/api/3/user", params={"accountId": ordinary["account_id"], "expand": "groups,applicationRoles"}
    )
    assert response.status_code == 200
    user = response.json()
    assert user["displayName"] == "Olly Ordinary"
    assert "jira-software-users" in {g["name"] for g in user["groups"]["items"]}


def test_user_of_an_unknown_account_is_a_404_error_collection(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/user", params={"accountId": "no-such-account"})
    assert response.status_code == 404
    assert response.json() == {
        "errorMessages": ["Specified user does not exist or you do not have required permissions"],
        "errors": {},
    }


def test_user_without_an_account_id_is_a_400(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/user")
    assert response.status_code == 400
    assert "accountId" in response.json()["errors"]


def test_user_search_matches_display_names_and_emails(sim: Simulator) -> None:
    found = sim.site_get("/rest/api/3/user/search", params={"query": "olly.ordinary@"}).json()
    assert [u["displayName"] for u in found] == ["Olly Ordinary"]
    by_name = sim.site_get("/rest/api/3/user/search", params={"query": "ada ADMIN"}).json()
    assert [u["displayName"] for u in by_name] == ["Ada Admin"]


def test_user_search_without_query_or_account_id_is_a_400(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/user/search")
    assert response.status_code == 400
    assert response.json()["errorMessages"]
