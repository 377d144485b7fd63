"""A simulator restarted on the same --data-dir comes back as it was: tenant changes, grants, secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from support.simulator import Simulator

UPM = "/rest/plugins/1.0"


def user_installed(sim: Simulator, root: str = UPM) -> list[str]:
    plugins = sim.site_get(f"{root}/").json()["plugins"]
    return [p["key"] for p in plugins if p["userInstalled"]]


def plugin_states(sim: Simulator) -> list[tuple[str, str, bool]]:
    """Key, version and enabled of every plugin (links carry the port, which a restart changes)."""
    plugins = sim.site_get(f"{UPM}/").json()["plugins"]
    return [(p["key"], p["version"], p["enabled"]) for p in plugins]


def uninstall_through_upm(sim: Simulator, key: str) -> None:
    response = sim.http.delete(f"{sim.site_url()}{UPM}/{quote(key, safe='')}-key", headers=sim.basic())
    assert response.status_code == 204


# every app in the plugin manager (the forge_apps switch), which these tests change apps through
BOTH = ["--forge-apps", "both"]


def test_restart_on_the_same_data_dir_keeps_changes_grants_and_secrets(tmp_path: Path) -> None:
    first = Simulator("tiny", data_dir=tmp_path, extra=BOTH)
    try:
        grant = first.mint_grant(["read:jira-user", "offline_access"])
        jira_apps = user_installed(first)
        uninstall_through_upm(first, jira_apps[0])
        first.control("DELETE", f"/sites/acme/apps/jira/{quote(jira_apps[1], safe='')}")
        first.control("POST", "/sites/acme/apps", {"product": "jira", "key": jira_apps[1]})
        first.control(
            "POST", f"/sites/acme/apps/jira/{quote(jira_apps[2], safe='')}/upgrade", {"scopes": ["ADMIN"]}
        )
        user = first.control(
            "POST", "/sites/acme/users", {"email": "kept@acme.example.com", "display_name": "Kept"}
        ).json()
        truth = first.ground_truth()
        apps = plugin_states(first)
    finally:
        first.stop()

    second = Simulator("tiny", data_dir=tmp_path, extra=BOTH)
    try:
        assert second.ground_truth() == truth
        assert plugin_states(second) == apps
        users = second.site_get("/rest/api/3/users/search", params={"maxResults": 1000}).json()
        assert user["account_id"] in {u["accountId"] for u in users}
        assert second.state["control_token"] == first.state["control_token"]
        client = second.state["oauth_client"]
        assert client["client_id"] == first.state["oauth_client"]["client_id"]
        refreshed = second.http.post(
            f"{second.url}/oauth/token",
            json={
                "grant_type": "refresh_token",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "refresh_token": grant["refresh_token"],
            },
        )
        assert refreshed.status_code == 200
        assert refreshed.json()["refresh_token"] != grant["refresh_token"]
    finally:
        second.stop()


def test_a_refused_change_is_not_replayed(tmp_path: Path) -> None:
    first = Simulator("tiny", data_dir=tmp_path)
    try:
        key = user_installed(first)[0]
        uninstall_through_upm(first, key)
        # uninstalling again is refused (404): it must not reach the journal and break the replay
        assert (
            first.http.delete(
                f"{first.site_url()}{UPM}/{quote(key, safe='')}-key", headers=first.basic()
            ).status_code
            == 404
        )
        truth = first.ground_truth()
    finally:
        first.stop()
    second = Simulator("tiny", data_dir=tmp_path)
    try:
        assert second.ground_truth() == truth
    finally:
        second.stop()


def test_a_moved_clock_stays_where_it_was_moved_after_a_restart(tmp_path: Path) -> None:
    days = 100
    first = Simulator("tiny", data_dir=tmp_path)
    try:
        first.control("POST", "/clock", {"seconds": days * 86_400})
    finally:
        first.stop()
    second = Simulator("tiny", data_dir=tmp_path)
    try:
        server_time = second.get(second.site_url() + "/rest/api/3/serverInfo").json()["serverTime"]
        ahead = datetime.strptime(server_time, "%Y-%m-%dT%H:%M:%S.%f%z") - datetime.now(UTC)
        assert timedelta(days=days - 1) < ahead < timedelta(days=days + 1)
    finally:
        second.stop()
