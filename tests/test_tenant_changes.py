"""Tenant changes through the control API, seen in the ground truth and on the product endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from support.simulator import Simulator

UPM = "/rest/plugins/1.0"


@pytest.fixture(scope="module")
def changed_sim() -> Iterator[Simulator]:
    """One private simulator for this module's changes (starting one per test is most of the time).

    Each test picks its own subject and checks only the differences its own changes make, so
    the tests hold in any order.
    """
    # app changes shown in the audit logs and every app in the plugin manager (switches, not
    # Atlassian's documented behaviour): the changes' records are what these tests look at
    simulator = Simulator("tiny", extra=["--app-audit-records", "--forge-apps", "both"])
    yield simulator
    simulator.stop()


def jira_truth(sim: Simulator) -> dict[str, Any]:
    return dict(sim.ground_truth()["sites"]["acme"]["products"]["jira"])


def counts(sim: Simulator, *names: str) -> dict[str, int]:
    truth = jira_truth(sim)
    return {name: truth[name]["count"] for name in names}


def directory(sim: Simulator) -> dict[str, dict[str, Any]]:
    users = sim.site_get("/rest/api/3/users/search", params={"maxResults": 1000}).json()
    return {user["accountId"]: user for user in users}


def upm_plugins(sim: Simulator) -> dict[str, dict[str, Any]]:
    return {p["key"]: p for p in sim.site_get(f"{UPM}/").json()["plugins"]}


def third_party_key(sim: Simulator, enabled: bool = True) -> str:
    return next(k for k, p in upm_plugins(sim).items() if p["userInstalled"] and p["enabled"] == enabled)


def app_path(key: str, product: str = "jira") -> str:
    return f"/sites/acme/apps/{product}/{quote(key, safe='')}"


def control_status(sim: Simulator, method: str, path: str, body: Any = None) -> int:
    try:
        return sim.control(method, path, body).status_code
    except httpx.HTTPStatusError as err:
        return err.response.status_code


# --- apps -----------------------------------------------------------------------------------------


def test_uninstall_makes_the_bot_inactive_and_audits_it(changed_sim: Simulator) -> None:
    key = third_party_key(changed_sim)
    before = counts(changed_sim, "apps", "users", "audit_records")
    assert control_status(changed_sim, "DELETE", app_path(key)) == 204
    assert key not in upm_plugins(changed_sim)
    assert counts(changed_sim, "apps", "users", "audit_records") == {
        "apps": before["apps"] - 1,
        "users": before["users"],  # the bot stays in the directory
        "audit_records": before["audit_records"] + 1,
    }
    bots = [u for u in directory(changed_sim).values() if u["accountType"] == "app"]
    assert [u for u in bots if not u["active"]]


def test_install_adds_the_app_its_active_bot_and_an_audit_record(changed_sim: Simulator) -> None:
    key = third_party_key(changed_sim)
    changed_sim.control("DELETE", app_path(key))
    before = counts(changed_sim, "apps", "users", "audit_records")
    app = changed_sim.control("POST", "/sites/acme/apps", {"product": "jira", "key": key}).json()
    assert app["key"] == key
    assert counts(changed_sim, "apps", "users", "audit_records") == {
        "apps": before["apps"] + 1,
        "users": before["users"] + 1,
        "audit_records": before["audit_records"] + 1,
    }
    bot = directory(changed_sim)[app["bot_account_id"]]
    assert (bot["accountType"], bot["active"]) == ("app", True)
    assert upm_plugins(changed_sim)[key]["enabled"] is True


def test_upgrade_to_new_scopes_publishes_a_new_version(changed_sim: Simulator) -> None:
    key = third_party_key(changed_sim)
    old = upm_plugins(changed_sim)[key]["version"]
    audit = counts(changed_sim, "audit_records")["audit_records"]
    upgraded = changed_sim.control(
        "POST", f"{app_path(key)}/upgrade", {"scopes": ["READ", "WRITE", "ADMIN"]}
    ).json()
    assert upgraded["version"] != old
    assert upm_plugins(changed_sim)[key]["version"] == upgraded["version"]
    assert counts(changed_sim, "audit_records")["audit_records"] == audit + 1
    again = control_status(changed_sim, "POST", f"{app_path(key)}/upgrade", {"version": upgraded["version"]})
    assert again == 409


def test_disable_and_enable_show_in_the_plugin_manager_and_audit_once(changed_sim: Simulator) -> None:
    key = third_party_key(changed_sim)
    audit = counts(changed_sim, "audit_records")["audit_records"]
    changed_sim.control("POST", f"{app_path(key)}/disable")
    changed_sim.control("POST", f"{app_path(key)}/disable")  # already disabled: no second record
    assert upm_plugins(changed_sim)[key]["enabled"] is False
    changed_sim.control("POST", f"{app_path(key)}/enable")
    assert upm_plugins(changed_sim)[key]["enabled"] is True
    assert counts(changed_sim, "audit_records")["audit_records"] == audit + 2


def test_confluence_app_changes_land_in_the_confluence_audit(changed_sim: Simulator) -> None:
    plugins = changed_sim.site_get(f"/wiki{UPM}/").json()["plugins"]
    key = next(p["key"] for p in plugins if p["userInstalled"])
    truth = changed_sim.ground_truth()["sites"]["acme"]["products"]
    changed_sim.control("DELETE", app_path(key, "confluence"))
    after = changed_sim.ground_truth()["sites"]["acme"]["products"]
    assert after["confluence"]["audit_records"]["count"] == truth["confluence"]["audit_records"]["count"] + 1
    assert after["confluence"]["apps"]["count"] == truth["confluence"]["apps"]["count"] - 1
    assert after["jira"]["audit_records"] == truth["jira"]["audit_records"]


# --- users, groups, memberships ---------------------------------------------------------------------


def test_added_user_is_listed_and_removing_it_drops_its_memberships(changed_sim: Simulator) -> None:
    before = counts(changed_sim, "users", "memberships")
    user = changed_sim.control(
        "POST", "/sites/acme/users", {"email": "new.person@acme.example.com", "display_name": "New Person"}
    ).json()
    assert directory(changed_sim)[user["account_id"]]["displayName"] == "New Person"
    changed_sim.control(
        "POST", "/sites/acme/groups/engineering-all/members", {"account_id": user["account_id"]}
    )
    assert counts(changed_sim, "users", "memberships") == {
        "users": before["users"] + 1,
        "memberships": before["memberships"] + 1,
    }
    assert control_status(changed_sim, "DELETE", f"/sites/acme/users/{user['account_id']}") == 204
    assert user["account_id"] not in directory(changed_sim)
    assert counts(changed_sim, "users", "memberships") == before


def test_removing_users_removes_their_project_role_actors(changed_sim: Simulator) -> None:
    fixed = {a["account_id"] for a in changed_sim.state["accounts"].values()}
    humans = [i for i, u in directory(changed_sim).items() if u["accountType"] != "app" and i not in fixed]
    before = counts(changed_sim, "users", "project_role_actors")
    for account_id in humans:  # every project lead among them is an Administrators actor
        changed_sim.control("DELETE", f"/sites/acme/users/{account_id}")
    after = counts(changed_sim, "users", "project_role_actors")
    assert after["users"] == before["users"] - len(humans)
    assert after["project_role_actors"] < before["project_role_actors"]


def test_groups_and_memberships_come_and_go(changed_sim: Simulator) -> None:
    before = counts(changed_sim, "groups", "memberships", "project_role_actors")
    group = changed_sim.control("POST", "/sites/acme/groups", {"name": "contractors"}).json()
    ordinary = changed_sim.state["accounts"]["ordinary"]["account_id"]
    changed_sim.control("POST", f"/sites/acme/groups/{group['group_id']}/members", {"account_id": ordinary})
    assert counts(changed_sim, "groups", "memberships")["memberships"] == before["memberships"] + 1
    changed_sim.control("DELETE", f"/sites/acme/groups/contractors/members/{ordinary}")
    changed_sim.control("DELETE", "/sites/acme/groups/contractors")
    assert counts(changed_sim, "groups", "memberships", "project_role_actors") == before
    # jira-software-users is the Viewer actor of every project: removing it removes those actors
    changed_sim.control("DELETE", "/sites/acme/groups/jira-software-users")
    after = counts(changed_sim, "groups", "project_role_actors")
    assert after["groups"] == before["groups"] - 1
    assert after["project_role_actors"] < before["project_role_actors"]


def test_refused_changes_answer_4xx_and_change_nothing(sim: Simulator) -> None:
    truth = sim.ground_truth()
    key = third_party_key(sim)
    ordinary = sim.state["accounts"]["ordinary"]
    assert control_status(sim, "POST", "/sites/nowhere/groups", {"name": "x"}) == 404
    assert control_status(sim, "POST", "/sites/acme/groups", {"name": "site-admins"}) == 409
    assert control_status(sim, "POST", "/sites/acme/groups", {}) == 400
    assert control_status(sim, "POST", "/sites/acme/apps", {"product": "jira", "key": key}) == 409
    assert control_status(sim, "POST", "/sites/acme/apps", {"product": "jira", "key": "com.x.none"}) == 404
    assert control_status(sim, "DELETE", app_path("com.atlassian.jira.plugin.system.reports")) == 403
    assert control_status(sim, "DELETE", "/sites/acme/users/0000") == 404
    user = {"email": ordinary["email"], "display_name": "Olly"}
    assert control_status(sim, "POST", "/sites/acme/users", user) == 409
    assert control_status(sim, "POST", f"{app_path(key)}/upgrade", {"scopes": "READ"}) == 400
    anonymous = sim.http.post(f"{sim.url}/_sim/sites/acme/groups", json={"name": "y"})
    assert anonymous.status_code == 401
    assert sim.ground_truth() == truth
