"""Bad input to Jira endpoints: always Jira's own error body, never a 500 and never a hang."""

from __future__ import annotations

import base64

import pytest

from support.simulator import Simulator

ADMIN_GROUPS = {"site-admins", "jira-admins", "confluence-admins"}
ADMIN_ONLY = "You are not authorized to perform this operation. Administrator access required."

# (path, its required parameters, start parameter, size parameter, the cap of the size)
PAGED: list[tuple[str, dict[str, str], str, str, int]] = [
    ("/rest/api/3/users/search", {}, "startAt", "maxResults", 1000),
    ("/rest/api/3/user/search", {"query": "a"}, "startAt", "maxResults", 1000),
    ("/rest/api/3/group/bulk", {}, "startAt", "maxResults", 50),
    ("/rest/api/3/group/member", {"groupname": "jira-software-users"}, "startAt", "maxResults", 50),
    ("/rest/api/3/project/search", {}, "startAt", "maxResults", 100),
    ("/rest/api/3/auditing/record", {}, "offset", "limit", 1000),
]
PAGED_IDS = [p[0] for p in PAGED]
PAGED_ARGS = ("path", "required", "start", "size", "cap")


@pytest.mark.parametrize(PAGED_ARGS, PAGED, ids=PAGED_IDS)
@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "99999999999"])
def test_bad_paging_numbers_are_a_400_error_collection(
    sim: Simulator, path: str, required: dict[str, str], start: str, size: str, cap: int, bad: str
) -> None:
    for name in (start, size):
        response = sim.site_get(path, params={**required, name: bad})
        assert response.status_code == 400, (name, response.text)
        body = response.json()
        assert set(body) == {"errorMessages", "errors"}
        assert name in body["errors"]


@pytest.mark.parametrize(PAGED_ARGS, PAGED, ids=PAGED_IDS)
def test_a_huge_page_size_is_capped_silently(
    sim: Simulator, path: str, required: dict[str, str], start: str, size: str, cap: int
) -> None:
    response = sim.site_get(path, params={**required, size: 2**31 - 1})
    assert response.status_code == 200
    body = response.json()
    if isinstance(body, list):
        assert len(body) <= cap
    else:
        assert body.get("maxResults", body.get("limit")) == cap


def test_a_start_past_the_end_is_an_empty_last_page(sim: Simulator) -> None:
    page = sim.site_get("/rest/api/3/group/bulk", params={"startAt": 10_000}).json()
    assert (page["values"], page["isLast"]) == ([], True)
    assert sim.site_get("/rest/api/3/users/search", params={"startAt": 10_000}).json() == []


@pytest.mark.parametrize(
    "path",
    [
        "/rest/api/3/applicationrole",
        "/rest/api/3/applicationrole/jira-software",
        "/rest/api/3/role",
        "/rest/api/3/role/10002",
        "/rest/api/3/auditing/record",
    ],
)
def test_admin_endpoints_refuse_ordinary_users_with_jiras_403(sim: Simulator, path: str) -> None:
    response = sim.site_get(path, who="ordinary")
    assert response.status_code == 403
    assert response.json() == {"errorMessages": [ADMIN_ONLY], "errors": {}}


def test_unknown_jira_path_is_a_404_error_collection(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/no-such-resource")
    assert response.status_code == 404
    assert response.json()["errorMessages"][0].startswith("null for uri: ")


def test_an_unsupported_method_is_a_405_error_collection(sim: Simulator) -> None:
    response = sim.http.post(sim.site_url() + "/rest/api/3/myself", headers=sim.basic())
    assert response.status_code == 405
    assert set(response.json()) == {"errorMessages", "errors"}


@pytest.mark.parametrize(
    "header", ["Basic !!!not-base64", "Basic " + base64.b64encode(b"no-colon").decode(), "Bearer x"]
)
def test_malformed_credentials_on_the_site_are_a_401(sim: Simulator, header: str) -> None:
    response = sim.get(sim.site_url() + "/rest/api/3/myself", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["message"] == "Client must be authenticated to access this resource."


def test_a_gateway_token_without_the_scope_is_refused_and_granular_scopes_suffice(sim: Simulator) -> None:
    base = f"{sim.url}/ex/jira/{sim.site()['cloud_id']}/rest/api/3/applicationrole"
    narrow = sim.mint_grant(["read:jira-work"])["access_token"]
    refused = sim.get(base, headers={"Authorization": f"Bearer {narrow}"})
    assert refused.status_code == 401
    assert refused.json() == {"code": 401, "message": "Unauthorized; scope does not match"}
    granular = sim.mint_grant(["read:application-role:jira"])["access_token"]
    assert sim.get(base, headers={"Authorization": f"Bearer {granular}"}).status_code == 200


def test_a_user_without_product_access_may_not_browse_groups(sim: Simulator) -> None:
    users = sim.site_get("/rest/api/3/users/search", params={"maxResults": 1000}).json()
    candidates = (u for u in users if u["accountType"] == "atlassian" and u["active"])
    expanded = (
        sim.site_get("/rest/api/3/user", params={"accountId": u["accountId"], "expand": "groups"}).json()
        for u in candidates
    )
    # a member of no application role's group and of no administrators' group
    outsider = next(
        u
        for u in expanded
        if u["applicationRoles"]["size"] == 0 and not {g["name"] for g in u["groups"]["items"]} & ADMIN_GROUPS
    )
    grant = sim.control(
        "POST",
        "/grants",
        {"email": outsider["emailAddress"], "sites": ["acme"], "scopes": ["read:jira-user"]},
    ).json()
    url = f"{sim.url}/ex/jira/{sim.site()['cloud_id']}/rest/api/3/group/bulk"
    response = sim.get(url, headers={"Authorization": f"Bearer {grant['access_token']}"})
    assert response.status_code == 403
    assert response.json() == {
        "errorMessages": ["Browse users and groups permission is required to view groups."],
        "errors": {},
    }
