"""The organization admin API over real HTTP: org API key auth, cursor paging, events limit, tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from support.simulator import Simulator

ADMIN_ERROR_KEYS = {"timestamp", "path", "status", "error", "message", "requestId"}


def admin_get(sim: Simulator, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {sim.state['org']['api_key']}", **kwargs.pop("headers", {})}
    return sim.get(path if path.startswith("http") else sim.url + path, headers=headers, **kwargs)


def org_path(sim: Simulator, suffix: str = "") -> str:
    return f"/admin/v1/orgs/{sim.state['org']['org_id']}{suffix}"


def follow_cursor(sim: Simulator, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page's body, following ``links.next`` (a full URL) until it is null."""
    pages = []
    response = admin_get(sim, path, params=params)
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json())
        next_url = pages[-1]["links"]["next"]
        if not next_url:
            return pages
        assert next_url.startswith(sim.url)
        response = admin_get(sim, next_url)


def assert_admin_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    body: dict[str, Any] = response.json()
    assert set(body) == ADMIN_ERROR_KEYS
    assert body["status"] == status
    assert body["path"].endswith(httpx.URL(str(response.url)).path)
    return body


def test_orgs_lists_the_one_organization_of_the_api_key(sim: Simulator) -> None:
    listed = admin_get(sim, "/admin/v1/orgs").json()
    org_id = sim.state["org"]["org_id"]
    assert [o["id"] for o in listed["data"]] == [org_id]
    assert listed["links"]["next"] is None
    single = admin_get(sim, org_path(sim)).json()["data"]
    assert single == listed["data"][0]
    assert single["relationships"]["users"]["links"]["related"] == sim.url + org_path(sim, "/users")


def test_admin_api_without_a_valid_org_api_key_is_401_in_the_admin_body(sim: Simulator) -> None:
    for headers in ({}, {"Authorization": "Bearer not-the-key"}, sim.basic()):
        response = sim.get(sim.url + org_path(sim, "/users"), headers=headers)
        assert_admin_error(response, 401)


def test_an_unknown_org_id_is_404(sim: Simulator) -> None:
    body = assert_admin_error(admin_get(sim, "/admin/v1/orgs/no-such-org/users"), 404)
    assert body["error"] == "Not Found"


def test_users_lists_every_managed_human_of_every_site(sim: Simulator) -> None:
    body = admin_get(sim, org_path(sim, "/users")).json()
    users = body["data"]
    assert body["meta"]["total"] == len(users) == len({u["account_id"] for u in users})
    assert {u["account_type"] for u in users} == {"atlassian"}
    site_humans = {
        u["accountId"]
        for u in sim.site_get("/rest/api/3/users/search", params={"maxResults": 1000}).json()
        if u["accountType"] == "atlassian"
    }
    assert site_humans <= {u["account_id"] for u in users}
    admin = next(u for u in users if u["email"] == sim.state["accounts"]["site_admin"]["email"])
    assert {(p["key"], p["url"]) for p in admin["product_access"]} >= {
        ("jira-software", "acme.atlassian.net"),
        ("confluence", "acme-wiki.atlassian.net"),
    }


def test_users_page_by_cursor_with_full_next_urls_until_next_is_null(sim_small: Simulator) -> None:
    pages = follow_cursor(sim_small, org_path(sim_small, "/users"))
    ids = [u["account_id"] for page in pages for u in page["data"]]
    assert len(pages) >= 3
    assert len(ids) == len(set(ids)) == pages[0]["meta"]["total"]
    assert pages[1]["links"]["prev"] is not None


def test_a_tampered_cursor_is_a_400_in_the_admin_body(sim: Simulator) -> None:
    for cursor in ("not-a-cursor", "eyJvIjotNX0", "%%%", "x" * 5000):
        response = admin_get(sim, org_path(sim, "/users"), params={"cursor": cursor})
        assert assert_admin_error(response, 400)["message"] == "Invalid page cursor"


def test_domains_list_and_each_domain_by_id(sim: Simulator) -> None:
    domains = admin_get(sim, org_path(sim, "/domains")).json()["data"]
    assert {d["attributes"]["name"] for d in domains} >= {"acme.example.com"}
    for domain in domains:
        single = admin_get(sim, org_path(sim, f"/domains/{domain['id']}")).json()["data"]
        assert single == domain
    assert_admin_error(admin_get(sim, org_path(sim, "/domains/nope")), 404)


def test_event_actions_name_every_action_the_events_use(sim: Simulator) -> None:
    actions = admin_get(sim, org_path(sim, "/event-actions")).json()["data"]
    assert {"api_token_created", "user_invited"} <= {a["id"] for a in actions}
    assert all(a["attributes"]["displayName"] for a in actions)


def test_events_page_newest_first_with_meta_next_and_filter_by_time_and_action(
    fresh_sim: Simulator,
) -> None:
    pages = follow_cursor(fresh_sim, org_path(fresh_sim, "/events"), limit=25)
    events = [e for page in pages for e in page["data"]]
    assert len(pages) == 3
    assert pages[0]["meta"] == {"next": pages[1]["links"]["self"].split("cursor=")[1], "page_size": 25}
    assert pages[-1]["meta"]["next"] is None
    times = [e["attributes"]["time"] for e in events]
    assert times == sorted(times, reverse=True)
    one = events[5]
    assert admin_get(fresh_sim, one["links"]["self"]).json()["data"] == one

    middle_ms = 1_770_000_000_000
    later = admin_get(fresh_sim, org_path(fresh_sim, "/events"), params={"from": middle_ms, "limit": 100})
    assert later.status_code == 200
    assert {e["id"] for e in later.json()["data"]} < {e["id"] for e in events}
    invited = admin_get(fresh_sim, org_path(fresh_sim, "/events"), params={"action": "user_invited"})
    assert {e["attributes"]["action"] for e in invited.json()["data"]} == {"user_invited"}
    bad = admin_get(fresh_sim, org_path(fresh_sim, "/events"), params={"from": "yesterday"})
    assert_admin_error(bad, 400)


def test_events_allow_ten_requests_a_minute_then_429_until_the_clock_moves(fresh_sim: Simulator) -> None:
    path = org_path(fresh_sim, "/events")
    statuses = [admin_get(fresh_sim, path).status_code for _ in range(10)]
    assert statuses == [200] * 10
    limited = admin_get(fresh_sim, path)
    assert_admin_error(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert admin_get(fresh_sim, org_path(fresh_sim, "/users")).status_code == 200  # another path
    fresh_sim.control("POST", "/clock", {"seconds": 61})
    assert admin_get(fresh_sim, path).status_code == 200


def test_revoking_an_api_token_stops_basic_auth_with_it_on_the_sites(fresh_sim: Simulator) -> None:
    who = fresh_sim.state["accounts"]["ordinary"]
    tokens_path = f"/users/{who['account_id']}/manage/api-tokens"
    tokens = admin_get(fresh_sim, tokens_path).json()
    assert [set(t) for t in tokens] == [{"id", "label", "createdAt", "lastAccess", "expiry"}]
    assert fresh_sim.site_get("/rest/api/3/users/search", who="ordinary").status_code == 200

    key = {"Authorization": f"Bearer {fresh_sim.state['org']['api_key']}"}
    revoke_url = f"{fresh_sim.url}{tokens_path}/{tokens[0]['id']}"
    assert fresh_sim.http.delete(revoke_url, headers=key).status_code == 204

    assert admin_get(fresh_sim, tokens_path).json() == []
    assert fresh_sim.site_get("/rest/api/3/users/search", who="ordinary").status_code == 401
    assert_admin_error(fresh_sim.http.delete(revoke_url, headers=key), 404)
    org_tokens = admin_get(
        fresh_sim, f"/admin/api-access/v1/orgs/{fresh_sim.state['org']['org_id']}/api-tokens"
    )
    assert tokens[0]["id"] not in {t["id"] for t in org_tokens.json()["data"]}


def test_a_3lo_access_token_cannot_call_the_admin_api(fresh_sim: Simulator) -> None:
    grant = fresh_sim.mint_grant(["read:jira-user"])
    headers = {"Authorization": f"Bearer {grant['access_token']}"}
    assert_admin_error(fresh_sim.get(fresh_sim.url + "/admin/v1/orgs", headers=headers), 401)


def test_api_tokens_of_unknown_or_unmanaged_accounts_are_refused(sim: Simulator) -> None:
    assert_admin_error(admin_get(sim, "/users/no-such-account/manage/api-tokens"), 404)
    bots = [
        u["accountId"]
        for u in sim.site_get("/rest/api/3/users/search", params={"maxResults": 1000}).json()
        if u["accountType"] == "app"
    ]
    assert bots
    body = assert_admin_error(admin_get(sim, f"/users/{bots[0]}/manage/api-tokens"), 403)
    assert body["message"] == "User has no permission to access resource."


def test_org_api_tokens_list_every_managed_users_live_tokens(sim: Simulator) -> None:
    path = f"/admin/api-access/v1/orgs/{sim.state['org']['org_id']}/api-tokens"
    pages = follow_cursor(sim, path, limit=5)
    listed = {t["id"]: t for page in pages for t in page["data"]}
    admin = sim.state["accounts"]["site_admin"]
    own = admin_get(sim, f"/users/{admin['account_id']}/manage/api-tokens").json()
    assert {t["id"] for t in own} <= set(listed)
    assert listed[own[0]["id"]]["user"]["email"] == admin["email"]
    expired = sim.state["accounts"]["expired_token_admin"]["account_id"]
    assert {t["status"] for t in listed.values() if t["user"]["id"] == expired} == {"EXPIRED"}


def test_org_api_keys_page_with_their_creators_and_never_carry_a_secret(sim: Simulator) -> None:
    path = f"/admin/api-access/v1/orgs/{sim.state['org']['org_id']}/api-keys"
    pages = follow_cursor(sim, path, limit=2)
    keys = [k for page in pages for k in page["data"]]
    assert len(pages) > 1
    assert admin_get(sim, f"{path}/count").json() == {"count": len(keys)}
    admin = sim.state["accounts"]["site_admin"]
    assert (keys[0]["label"], keys[0]["createdBy"]["email"]) == ("appgov", admin["email"])
    assert all(k["createdAt"] and k["expiresAt"] and k["scopes"] for k in keys)
    assert not any(
        sim.state["org"]["api_key"] in admin_get(sim, page["links"]["self"]).text for page in pages
    )
    assert_admin_error(sim.get(sim.url + path), 401)


def test_a_revoked_api_token_stays_revoked_after_a_restart_with_a_data_dir(tmp_path: Path) -> None:
    first = Simulator("tiny", data_dir=tmp_path)
    try:
        who = first.state["accounts"]["ordinary"]
        tokens_path = f"/users/{who['account_id']}/manage/api-tokens"
        token_id = admin_get(first, tokens_path).json()[0]["id"]
        key = {"Authorization": f"Bearer {first.state['org']['api_key']}"}
        assert first.http.delete(f"{first.url}{tokens_path}/{token_id}", headers=key).status_code == 204
    finally:
        first.stop()
    second = Simulator("tiny", data_dir=tmp_path)
    try:
        assert admin_get(second, tokens_path).json() == []
        assert second.site_get("/rest/api/3/users/search", who="ordinary").status_code == 401
    finally:
        second.stop()


def test_app_changes_made_through_the_control_api_are_app_actions_in_the_org_audit_log(
    fresh_sim: Simulator,
) -> None:
    actor = fresh_sim.state["accounts"]["ordinary"]["account_id"]
    key = fresh_sim.install_new_app(actor=actor)
    fresh_sim.control("POST", f"/sites/acme/apps/jira/{quote(key, safe='')}/disable", {})
    names = {
        a["id"]: a["attributes"]
        for a in admin_get(fresh_sim, org_path(fresh_sim, "/event-actions")).json()["data"]
    }
    newest = admin_get(fresh_sim, org_path(fresh_sim, "/events"), params={"limit": 2}).json()["data"]
    assert [names[e["attributes"]["action"]]["displayName"] for e in newest] == [
        "App disable success",
        "App successful installation",
    ]
    assert {names[e["attributes"]["action"]]["groupDisplayName"] for e in newest} == {"App actions"}
    installed = newest[1]["attributes"]
    assert installed["actor"]["id"] == actor
    assert [(c["type"], c["id"]) for c in installed["context"]] == [("apps", key)]
    site = next(c for c in installed["container"] if c["type"] == "sites")
    assert site["id"] == fresh_sim.site("acme")["cloud_id"]


def test_the_generated_history_holds_an_installation_event_for_every_installed_app(sim: Simulator) -> None:
    names = {
        a["id"]: a["attributes"]["displayName"]
        for a in admin_get(sim, org_path(sim, "/event-actions")).json()["data"]
    }
    events = [e for page in follow_cursor(sim, org_path(sim, "/events"), limit=100) for e in page["data"]]
    installed = {
        e["attributes"]["context"][0]["id"]
        for e in events
        if names[e["attributes"]["action"]] == "App successful installation"
    }
    plugins = sim.site_get("/rest/plugins/1.0/").json()["plugins"]
    assert {p["key"] for p in plugins if p["userInstalled"]} <= installed
