"""Confluence v1 over real HTTP: settings, groups, members and audit, on the site and via the gateway."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from support.simulator import Simulator

WIKI = "/wiki/rest/api"
ERROR_KEYS = {"statusCode", "data", "message", "reason"}
USER_KEYS = {
    "type",
    "accountId",
    "accountType",
    "email",
    "publicName",
    "profilePicture",
    "displayName",
    "isExternalCollaborator",
    "_links",
}


def digest(keys: list[str]) -> str:
    """The ground truth's digest: sha256 over the sorted keys, one per line."""
    h = hashlib.sha256()
    for key in sorted(keys):
        h.update(key.encode() + b"\n")
    return h.hexdigest()


def confluence_truth(sim: Simulator, site: str = "acme") -> dict[str, Any]:
    return dict(sim.ground_truth()["sites"][site]["products"]["confluence"])


def follow(
    sim: Simulator, path: str, headers: dict[str, str], site_url: str | None = None
) -> list[dict[str, Any]]:
    """Every page of a v1 collection, following ``_links.next`` relative to ``_links.base``."""
    url: str | None = (site_url or sim.site_url()) + path
    pages = []
    while url is not None:
        response = sim.get(url, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        assert page["size"] == len(page["results"]) <= page["limit"]
        links = page["_links"]
        url = links["base"] + links["next"] if "next" in links else None
    return pages


def results(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page["results"]]


# --- settings ---------------------------------------------------------------------------------


def test_system_info_names_the_site_and_its_cloud_id(sim: Simulator) -> None:
    body = sim.site_get(f"{WIKI}/settings/systemInfo").json()
    assert body["cloudId"] == sim.site()["cloud_id"]
    assert body["baseUrl"] == sim.site_url() + "/wiki"
    for key in ("commitHash", "fallbackBaseUrl", "edition", "siteTitle", "defaultLocale", "defaultTimeZone"):
        assert key in body


def test_look_and_feel_has_the_global_and_custom_blocks(sim: Simulator) -> None:
    body = sim.site_get(f"{WIKI}/settings/lookandfeel", params={"spaceKey": "ANY"}).json()
    assert body["selected"] == "global"
    for block in (body["global"], body["custom"]):
        assert {"headings", "links", "menus", "header", "content", "bordersAndDividers"} <= set(block)


def test_themes_are_a_v1_page_and_one_is_selected(sim: Simulator) -> None:
    page = sim.site_get(f"{WIKI}/settings/theme").json()
    assert page["size"] == len(page["results"]) >= 1
    assert {"themeKey", "name", "description", "icon"} <= set(page["results"][0])
    selected = sim.site_get(f"{WIKI}/settings/theme/selected").json()
    assert selected["themeKey"] in {t["themeKey"] for t in page["results"]}


# --- groups and members -----------------------------------------------------------------------


def test_groups_page_three_times_at_the_cap_and_match_the_ground_truth(sim_small: Simulator) -> None:
    pages = follow(sim_small, f"{WIKI}/group?limit=1000", sim_small.basic())
    truth = confluence_truth(sim_small)["groups"]
    ids = [g["id"] for g in results(pages)]
    assert len(pages) >= 3
    assert all(p["limit"] == 50 for p in pages)
    assert "next" not in pages[-1]["_links"]
    assert len(ids) == truth["count"] == len(set(ids))
    assert digest(ids) == truth["digest"]


def test_group_shape_and_relative_next_link(sim: Simulator) -> None:
    page = sim.site_get(f"{WIKI}/group", params={"start": 0, "limit": 2}).json()
    group = page["results"][0]
    assert group["type"] == "group"
    assert {"name", "id", "usageType", "managedBy", "_links"} <= set(group)
    links = page["_links"]
    assert links["base"] == sim.site_url() + "/wiki"
    assert links["context"] == "/wiki"
    assert links["next"].startswith("/rest/api/group?")
    assert "start=2" in links["next"]
    assert "limit=2" in links["next"]


def test_access_type_narrows_groups_to_those_granting_that_access(sim: Simulator) -> None:
    names = {
        g["name"]
        for g in sim.site_get(f"{WIKI}/group", params={"accessType": "site-admin"}).json()["results"]
    }
    assert names == {"site-admins"}
    bad = sim.site_get(f"{WIKI}/group", params={"accessType": "superuser"})
    assert bad.status_code == 400
    assert set(bad.json()) == ERROR_KEYS


def test_group_by_id_and_picker_find_the_same_group(sim: Simulator) -> None:
    first = sim.site_get(f"{WIKI}/group").json()["results"][0]
    by_id = sim.site_get(f"{WIKI}/group/by-id", params={"id": first["id"]}).json()
    assert by_id["name"] == first["name"]
    picked = sim.site_get(
        f"{WIKI}/group/picker", params={"query": first["name"].upper(), "shouldReturnTotalSize": "true"}
    ).json()
    assert first["id"] in {g["id"] for g in picked["results"]}
    assert picked["totalSize"] >= 1


def test_unknown_group_is_a_confluence_404(sim: Simulator) -> None:
    for path in (
        f"{WIKI}/group/by-id?id=nope",
        f"{WIKI}/group/nope/membersByGroupId",
        f"{WIKI}/group/nope/member",
    ):
        response = sim.site_get(path)
        assert response.status_code == 404, path
        assert response.json()["statusCode"] == 404


def test_members_of_the_big_group_page_three_times_with_a_total(sim_small: Simulator) -> None:
    groups = results(follow(sim_small, f"{WIKI}/group?limit=50", sim_small.basic()))
    big = next(g for g in groups if g["name"] == "engineering-all")
    path = f"{WIKI}/group/{big['id']}/membersByGroupId?limit=50&shouldReturnTotalSize=true"
    pages = follow(sim_small, path, sim_small.basic())
    members = results(pages)
    assert len(pages) >= 3
    assert pages[0]["totalSize"] == len(members) == len({m["accountId"] for m in members})
    assert set(members[0]) >= USER_KEYS


def test_every_membership_matches_the_ground_truth(sim: Simulator) -> None:
    keys = []
    for group in results(follow(sim, f"{WIKI}/group", sim.basic())):
        members = results(follow(sim, f"{WIKI}/group/{group['id']}/membersByGroupId", sim.basic()))
        keys += [f"{group['id']}:{m['accountId']}" for m in members]
    truth = confluence_truth(sim)["group_members"]
    assert len(keys) == truth["count"]
    assert digest(keys) == truth["digest"]


def test_legacy_member_paths_list_the_same_members_by_name(sim: Simulator) -> None:
    group = sim.site_get(f"{WIKI}/group", params={"accessType": "site-admin"}).json()["results"][0]
    by_id = sim.site_get(f"{WIKI}/group/{group['id']}/membersByGroupId").json()["results"]
    in_path = sim.site_get(f"{WIKI}/group/{group['name']}/member").json()["results"]
    in_query = sim.site_get(f"{WIKI}/group/member", params={"name": group["name"]}).json()["results"]
    assert by_id == in_path == in_query
    assert sim.site_get(f"{WIKI}/group/member").status_code == 400


def test_expand_operations_fills_what_was_expandable(sim: Simulator) -> None:
    group = sim.site_get(f"{WIKI}/group").json()["results"][0]
    path = f"{WIKI}/group/{group['id']}/membersByGroupId"
    plain = sim.site_get(path).json()["results"][0]
    expanded = sim.site_get(path, params={"expand": "operations"}).json()["results"][0]
    assert "operations" in plain["_expandable"]
    assert "operations" not in plain
    assert isinstance(expanded["operations"], list)
    assert "operations" not in expanded["_expandable"]


def test_app_bot_users_have_the_app_account_type_and_no_email(sim: Simulator) -> None:
    everyone = []
    for group in results(follow(sim, f"{WIKI}/group", sim.basic())):
        everyone += results(follow(sim, f"{WIKI}/group/{group['id']}/membersByGroupId", sim.basic()))
    people = [u for u in everyone if u["accountType"] == "atlassian"]
    assert people
    assert all("@" in u["email"] for u in people)
    assert all(u["email"] == "" for u in everyone if u["accountType"] == "app")


# --- audit ------------------------------------------------------------------------------------


def test_audit_pages_newest_first_and_counts_every_record(sim_small: Simulator) -> None:
    pages = follow(sim_small, f"{WIKI}/audit?limit=5000", sim_small.basic())
    records = results(pages)
    dates = [r["creationDate"] for r in records]
    assert len(pages) >= 3
    assert pages[0]["limit"] == 1000
    assert dates == sorted(dates, reverse=True)
    assert len(records) == confluence_truth(sim_small)["audit_records"]["count"]


def test_audit_record_has_the_documented_fields(sim: Simulator) -> None:
    record = sim.site_get(f"{WIKI}/audit", params={"limit": 1}).json()["results"][0]
    assert {
        "author",
        "remoteAddress",
        "creationDate",
        "summary",
        "description",
        "category",
        "sysAdmin",
        "superAdmin",
        "affectedObject",
        "changedValues",
        "associatedObjects",
    } <= set(record)
    assert {"type", "displayName", "accountId", "accountType", "publicName"} <= set(record["author"])
    assert {"name", "objectType"} <= set(record["affectedObject"])


def test_app_installs_are_in_the_apps_category_with_the_installed_keys(sim_uncertain: Simulator) -> None:
    """App changes are in the log only with the app_audit_records switch (not Atlassian's)."""
    sim = sim_uncertain
    records = results(follow(sim, f"{WIKI}/audit?searchString=app%20installed", sim.basic()))
    assert records
    assert {r["category"] for r in records} == {"Apps"}
    assert all(r["affectedObject"]["objectType"] == "App" for r in records)
    installed_keys = {
        a["name"] for r in records for a in r["associatedObjects"] if a["objectType"] == "App key"
    }
    truth = confluence_truth(sim)["app_inventory"]
    assert len(installed_keys) >= truth["count"]
    version = records[0]["changedValues"][0]
    assert version["name"] == "Version"
    assert version["newValue"]


def test_audit_dates_bound_the_records_inclusively(sim: Simulator) -> None:
    everything = results(follow(sim, f"{WIKI}/audit", sim.basic()))
    dates = sorted(r["creationDate"] for r in everything)
    low, high = dates[len(dates) // 4], dates[3 * len(dates) // 4]
    bounded = results(follow(sim, f"{WIKI}/audit?startDate={low}&endDate={high}", sim.basic()))
    assert bounded
    assert all(low <= r["creationDate"] <= high for r in bounded)
    assert len(bounded) == sum(1 for d in dates if low <= d <= high)


def test_audit_since_counts_back_from_the_simulator_clock(sim: Simulator) -> None:
    everything = results(follow(sim, f"{WIKI}/audit", sim.basic()))
    recent = results(follow(sim, f"{WIKI}/audit/since?number=100&units=YEARS", sim.basic()))
    assert len(recent) == len(everything)
    assert sim.site_get(f"{WIKI}/audit/since", params={"units": "EONS"}).status_code == 400
    assert sim.site_get(f"{WIKI}/audit/retention").json() == {"number": 3, "units": "MONTHS"}


def test_audit_since_window_moves_with_the_clock(fresh_sim: Simulator) -> None:
    newest = fresh_sim.site_get(f"{WIKI}/audit", params={"limit": 1}).json()["results"][0]["creationDate"]
    now = fresh_sim.control("POST", "/clock", {"seconds": 0}).json()["now"]
    age_days = (datetime.fromisoformat(now).timestamp() * 1000 - newest) // 86_400_000
    path = f"{WIKI}/audit/since?number={int(age_days) + 1}&units=DAYS&limit=1"
    before = fresh_sim.site_get(path).json()["results"]
    fresh_sim.control("POST", "/clock", {"seconds": 2 * 86_400})
    after = fresh_sim.site_get(path).json()["results"]
    assert [r["creationDate"] for r in before] == [newest]
    assert after == []


def test_audit_needs_a_confluence_administrator(sim: Simulator) -> None:
    response = sim.site_get(f"{WIKI}/audit", who="ordinary")
    assert response.status_code == 403
    assert response.json()["statusCode"] == 403
    assert set(response.json()) == ERROR_KEYS


# --- bad input and hosts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["start=-1", "limit=-5", "start=abc", "limit=1e9", "start=99999999999999999999", "startDate=yesterday"],
)
def test_bad_paging_numbers_are_confluence_400s(sim: Simulator, query: str) -> None:
    path = f"{WIKI}/audit?{query}" if "Date" in query else f"{WIKI}/group?{query}"
    response = sim.site_get(path)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["statusCode"] == 400
    assert body["reason"] == "Bad Request"


def test_a_start_past_the_end_is_an_empty_last_page(sim: Simulator) -> None:
    page = sim.site_get(f"{WIKI}/group", params={"start": 10_000}).json()
    assert page["results"] == []
    assert page["size"] == 0
    assert "next" not in page["_links"]


def test_missing_or_malformed_credentials_are_confluence_401s(sim: Simulator) -> None:
    url = sim.site_url() + f"{WIKI}/group"
    for headers in ({}, {"Authorization": "Basic !!!"}, {"Authorization": "Bearer abc"}):
        response = sim.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["statusCode"] == 401
        assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"


def test_unknown_paths_and_methods_answer_in_confluence_shape(sim: Simulator) -> None:
    missing = sim.site_get(f"{WIKI}/no-such-resource")
    assert missing.status_code == 404
    assert set(missing.json()) == ERROR_KEYS
    wrong_method = sim.http.post(sim.site_url() + f"{WIKI}/group", headers=sim.basic())
    assert wrong_method.status_code == 405
    assert wrong_method.json()["statusCode"] == 405


def test_a_switched_on_rate_limit_is_a_confluence_429_with_retry_after(fresh_sim: Simulator) -> None:
    fresh_sim.fault(
        "rate_limit", site="acme", path="/wiki/rest/api/group*", times=1, params={"retry_after": 3}
    )
    limited = fresh_sim.site_get(f"{WIKI}/group")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert limited.json()["statusCode"] == 429
    assert fresh_sim.site_get(f"{WIKI}/group").status_code == 200


def test_a_jira_only_site_has_no_wiki(sim: Simulator) -> None:
    assert sim.site_get(f"{WIKI}/group", site="acme-eng").status_code == 404


def test_a_confluence_only_site_serves_the_wiki_but_not_jira(sim: Simulator) -> None:
    groups = results(follow(sim, f"{WIKI}/group", sim.basic(), sim.site_url("acme-wiki")))
    assert len(groups) == confluence_truth(sim, "acme-wiki")["groups"]["count"]
    assert sim.site_get("/rest/api/3/serverInfo", site="acme-wiki").status_code == 404


# --- the gateway ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway_sim() -> Iterator[Simulator]:
    """A private simulator: these tests mint grants, which add scopes to the account's one grant."""
    simulator = Simulator("tiny")
    yield simulator
    simulator.stop()


def bearer(sim: Simulator, scopes: list[str], who: str) -> dict[str, str]:
    token = sim.mint_grant(scopes, who=who)["access_token"]
    return {"Authorization": f"Bearer {token}"}


def gateway_url(sim: Simulator, wiki: bool = True) -> str:
    return f"{sim.url}/ex/confluence/{sim.site()['cloud_id']}" + ("/wiki" if wiki else "")


def test_classic_scopes_reach_groups_on_both_gateway_path_forms(gateway_sim: Simulator) -> None:
    headers = bearer(gateway_sim, ["read:confluence-groups", "manage:confluence-configuration"], "site_admin")
    for wiki in (True, False):
        base = gateway_url(gateway_sim, wiki)
        pages = follow(gateway_sim, "/rest/api/group?limit=3", headers, base.removesuffix("/wiki"))
        assert len(results(pages)) == confluence_truth(gateway_sim)["groups"]["count"]
        info = gateway_sim.get(base + "/rest/api/settings/systemInfo", headers=headers)
        assert info.json()["cloudId"] == gateway_sim.site()["cloud_id"]


def test_granular_scopes_reach_members_and_the_audit(gateway_sim: Simulator) -> None:
    headers = bearer(
        gateway_sim,
        ["read:group:confluence", "read:user:confluence", "read:audit-log:confluence"],
        "expired_token_admin",
    )
    base = gateway_url(gateway_sim)
    group = gateway_sim.get(base + "/rest/api/group", headers=headers).json()["results"][0]
    members = gateway_sim.get(base + f"/rest/api/group/{group['id']}/membersByGroupId", headers=headers)
    assert members.status_code == 200
    assert gateway_sim.get(base + "/rest/api/audit", headers=headers).status_code == 200


def test_a_missing_scope_is_the_gateway_scope_mismatch(gateway_sim: Simulator) -> None:
    headers = bearer(gateway_sim, ["read:group:confluence"], "ordinary")
    base = gateway_url(gateway_sim)
    group = gateway_sim.get(base + "/rest/api/group", headers=headers).json()["results"][0]
    for path in (
        f"/rest/api/group/{group['id']}/membersByGroupId",
        "/rest/api/audit",
        "/rest/api/settings/systemInfo",
    ):
        response = gateway_sim.get(base + path, headers=headers)
        assert response.status_code == 401, path
        assert response.json() == {"code": 401, "message": "Unauthorized; scope does not match"}


def test_an_unknown_bearer_token_is_the_gateway_401(gateway_sim: Simulator) -> None:
    response = gateway_sim.get(
        gateway_url(gateway_sim) + "/rest/api/group", headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "Unauthorized"}


def test_a_confluence_404_has_the_captured_error_body(sim: Simulator) -> None:
    response = sim.site_get("/wiki/rest/api/group/by-id", params={"id": "no-such-group"})
    assert response.status_code == 404
    body = response.json()
    assert body["statusCode"] == 404
    assert body["reason"] == "Not Found"
    assert body["data"] == {
        "authorized": False,
        "valid": True,
        "allowedInReadOnlyMode": True,
        "errors": [],
        "successful": False,
    }
