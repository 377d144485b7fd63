"""The plugin manager (UPM) over real HTTP: list, token, detail, enable/disable, uninstall, install."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from support.simulator import Simulator

JIRA = "/rest/plugins/1.0"
WIKI = "/wiki/rest/plugins/1.0"
INSTALLED = {"Accept": "application/vnd.atl.plugins.installed+json"}
REMOTE_INSTALL = "application/vnd.atl.plugins.remote.install+json"
SYSTEM_KEY = "com.atlassian.upm.atlassian-universal-plugin-manager-plugin"
DETAIL_KEYS = [
    "key",
    "name",
    "version",
    "description",
    "enabled",
    "enabledByDefault",
    "userInstalled",
    "optional",
    "static",
    "unloadable",
    "unrecognisedModuleTypes",
    "usesLicensing",
    "remotable",
    "vendor",
    "modules",
    "links",
]


def upm(sim: Simulator, method: str, path: str, who: str = "site_admin", **kwargs: Any) -> httpx.Response:
    headers = {**sim.basic(who), **INSTALLED, **kwargs.pop("headers", {})}
    return sim.http.request(method, sim.site_url() + path, headers=headers, **kwargs)


def plugin_path(key: str, root: str = JIRA) -> str:
    return f"{root}/{quote(key, safe='')}-key"


def third_party(sim: Simulator, root: str = JIRA) -> list[dict[str, Any]]:
    return [p for p in upm(sim, "GET", f"{root}/").json()["plugins"] if p["userInstalled"]]


def uninstalled_app(sim: Simulator) -> tuple[str, str]:
    """(key, version) of a Connect app just uninstalled from acme's Jira through the control API."""
    app = next(p for p in third_party(sim) if p["key"].startswith("com."))
    sim.control("DELETE", f"/sites/acme/apps/jira/{quote(app['key'], safe='')}")
    return app["key"], app["version"]


def install(sim: Simulator, uri: str, root: str = JIRA) -> httpx.Response:
    token = upm(sim, "HEAD", f"{root}/").headers["upm-token"]
    return upm(
        sim,
        "POST",
        f"{root}/",
        params={"token": token},
        headers={"Content-Type": REMOTE_INSTALL},
        json={"pluginUri": uri},
    )


# --- reading --------------------------------------------------------------------------------------


def test_list_has_system_and_user_installed_plugins_and_a_token(sim: Simulator) -> None:
    response = upm(sim, "GET", f"{JIRA}/", params={"os_authType": "basic"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.atl.plugins.installed+json")
    body = response.json()
    assert set(body) == {"plugins", "links"}
    system = [p for p in body["plugins"] if not p["userInstalled"]]
    assert SYSTEM_KEY in {p["key"] for p in system}
    truth = sim.ground_truth()["sites"]["acme"]["products"]["jira"]["apps"]
    assert len(body["plugins"]) - len(system) == truth["count"]
    assert response.headers["upm-token"]


def test_every_list_and_head_gives_a_fresh_token_and_head_has_no_body(sim: Simulator) -> None:
    first = upm(sim, "GET", f"{JIRA}/").headers["upm-token"]
    head = upm(sim, "HEAD", f"{JIRA}/")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["upm-token"] not in ("", first)


def test_detail_is_the_plugin_object_key_for_key(sim: Simulator) -> None:
    app = third_party(sim)[0]
    response = upm(sim, "GET", plugin_path(app["key"]))
    assert response.status_code == 200
    body = response.json()
    assert list(body) == DETAIL_KEYS
    assert body["links"]["self"] == "/sites/acme" + plugin_path(app["key"])
    assert body["modules"][0]["completeKey"].startswith(app["key"] + ":")


def test_forge_keys_are_url_encoded_in_the_path(sim_uncertain: Simulator) -> None:
    """Where the plugin manager lists Forge apps (the forge_apps switch: upm or both)."""
    sim = sim_uncertain
    forge = next(p for p in third_party(sim) if p["key"].startswith("ari:cloud:ecosystem::app/"))
    response = upm(sim, "GET", plugin_path(forge["key"]))
    assert response.status_code == 200
    assert response.json()["key"] == forge["key"]
    assert "%2F" in response.json()["links"]["self"]


def test_unknown_plugin_is_404_with_a_sub_code(sim: Simulator) -> None:
    response = upm(sim, "GET", plugin_path("com.example.nothing"))
    assert response.status_code == 404
    assert response.json()["subCode"]


def test_confluence_plugin_manager_lives_under_wiki_with_wiki_links(sim: Simulator) -> None:
    response = upm(sim, "GET", f"{WIKI}/")
    assert response.status_code == 200
    plugins = response.json()["plugins"]
    assert all(p["links"]["self"].startswith("/sites/acme/wiki/rest/plugins/1.0/") for p in plugins)
    truth = sim.ground_truth()["sites"]["acme"]["products"]["confluence"]["apps"]
    assert len([p for p in plugins if p["userInstalled"]]) == truth["count"]


def test_without_the_trailing_slash_the_collection_is_not_found(sim: Simulator) -> None:
    assert upm(sim, "GET", JIRA).status_code == 404


def test_ordinary_user_is_403_and_anonymous_is_401(sim: Simulator) -> None:
    denied = upm(sim, "GET", f"{JIRA}/", who="ordinary")
    assert denied.status_code == 403
    assert denied.json()["subCode"] == "upm.permission.denied"
    anonymous = sim.get(sim.site_url() + f"{JIRA}/")
    assert anonymous.status_code == 401
    assert "upm-token" not in anonymous.headers


def test_uninstalling_a_system_plugin_is_403_not_uninstallable(sim: Simulator) -> None:
    response = upm(sim, "DELETE", plugin_path(SYSTEM_KEY))
    assert response.status_code == 403
    assert response.json()["subCode"] == "upm.pluginUninstall.error.plugin.not.uninstallable"


def test_uninstalling_an_unknown_plugin_is_404(sim: Simulator) -> None:
    assert upm(sim, "DELETE", plugin_path("com.example.nothing")).status_code == 404


def test_install_with_a_bad_token_is_403_invalid_token(sim: Simulator) -> None:
    response = upm(
        sim,
        "POST",
        f"{JIRA}/",
        params={"token": "forged"},
        headers={"Content-Type": REMOTE_INSTALL},
        json={"pluginUri": "https://example.com/atlassian-connect.json?key=x"},
    )
    assert response.status_code == 403
    assert response.json() == {"message": "invalid token", "subCode": "upm.error.invalid.token"}


def test_install_of_an_unknown_app_finishes_with_an_error(sim: Simulator) -> None:
    accepted = install(sim, f"{sim.url}/marketplace/descriptors/com.example.nothing/1.0.0")
    assert accepted.status_code == 202
    assert accepted.json()["status"]["done"] is False
    task = upm(sim, "GET", accepted.json()["links"]["self"].removeprefix("/sites/acme")).json()
    assert task["status"]["done"] is True
    assert task["status"]["subCode"] == "upm.pluginInstall.error.response.exception"
    assert task["error"]["code"] == "upm.pluginInstall.error.response.exception"


def test_malformed_bodies_are_400_not_500(sim: Simulator) -> None:
    token = upm(sim, "HEAD", f"{JIRA}/").headers["upm-token"]
    garbage = upm(
        sim,
        "POST",
        f"{JIRA}/",
        params={"token": token},
        headers={"Content-Type": REMOTE_INSTALL},
        content=b"{not json",
    )
    assert garbage.status_code == 400
    app = third_party(sim)[0]
    put = upm(sim, "PUT", plugin_path(app["key"]), json=["enabled"])
    assert put.status_code == 400


# --- changing -------------------------------------------------------------------------------------


def test_put_with_enabled_changed_disables_then_enables(fresh_sim: Simulator) -> None:
    app = next(p for p in third_party(fresh_sim) if p["enabled"])
    detail = upm(fresh_sim, "GET", plugin_path(app["key"])).json()
    off = upm(
        fresh_sim,
        "PUT",
        plugin_path(app["key"]),
        headers={"Content-Type": "application/vnd.atl.plugins.plugin+json"},
        json={**detail, "enabled": False},
    )
    assert off.status_code == 200
    assert off.json()["enabled"] is False
    assert upm(fresh_sim, "GET", plugin_path(app["key"])).json()["enabled"] is False
    on = upm(fresh_sim, "PUT", plugin_path(app["key"]), json={**detail, "enabled": True})
    assert on.json()["enabled"] is True


def test_uninstall_is_204_and_the_app_is_gone(fresh_sim: Simulator) -> None:
    app = third_party(fresh_sim)[0]
    before = fresh_sim.ground_truth()["sites"]["acme"]["products"]["jira"]
    response = upm(fresh_sim, "DELETE", plugin_path(app["key"]))
    assert response.status_code == 204
    assert upm(fresh_sim, "GET", plugin_path(app["key"])).status_code == 404
    after = fresh_sim.ground_truth()["sites"]["acme"]["products"]["jira"]
    assert after["apps"]["count"] == before["apps"]["count"] - 1
    # the audit log shows the uninstall only with the app_audit_records switch, off by default
    assert after["audit_records"]["count"] == before["audit_records"]["count"]


def test_install_answers_202_pending_then_the_task_gives_the_plugin(fresh_sim: Simulator) -> None:
    key, version = uninstalled_app(fresh_sim)
    accepted = install(fresh_sim, f"{fresh_sim.url}/marketplace/descriptors/{quote(key)}/{version}")
    assert accepted.status_code == 202
    task = accepted.json()
    assert task["type"] == "INSTALL"
    assert task["status"]["done"] is False
    assert task["pingAfter"] > 0
    finished = upm(fresh_sim, "GET", task["links"]["alternate"].removeprefix("/sites/acme")).json()
    assert finished["done"] is True
    assert "error" not in finished
    plugin = upm(fresh_sim, "GET", task["links"]["self"].removeprefix("/sites/acme")).json()
    assert (plugin["key"], plugin["version"], plugin["userInstalled"]) == (key, version, True)
    assert key in {p["key"] for p in third_party(fresh_sim)}


def test_a_upm_token_works_once(fresh_sim: Simulator) -> None:
    key, _ = uninstalled_app(fresh_sim)
    token = upm(fresh_sim, "GET", f"{JIRA}/").headers["upm-token"]
    request = {
        "params": {"token": token},
        "headers": {"Content-Type": REMOTE_INSTALL},
        "json": {"pluginUri": f"https://vendor.example/atlassian-connect.json?key={quote(key)}"},
    }
    assert upm(fresh_sim, "POST", f"{JIRA}/", **request).status_code == 202
    reused = upm(fresh_sim, "POST", f"{JIRA}/", **request)
    assert reused.status_code == 403
    assert reused.json()["subCode"] == "upm.error.invalid.token"


def test_confluence_install_and_uninstall_change_confluence_only(fresh_sim: Simulator) -> None:
    app = third_party(fresh_sim, WIKI)[0]
    jira_before = fresh_sim.ground_truth()["sites"]["acme"]["products"]["jira"]["apps"]
    assert upm(fresh_sim, "DELETE", plugin_path(app["key"], WIKI)).status_code == 204
    truth = fresh_sim.ground_truth()["sites"]["acme"]["products"]
    assert truth["jira"]["apps"] == jira_before
    assert app["key"] not in {p["key"] for p in third_party(fresh_sim, WIKI)}
    accepted = install(fresh_sim, f"https://vendor.example/descriptor?key={quote(app['key'])}", WIKI)
    assert accepted.json()["links"]["self"].startswith("/sites/acme/wiki/rest/plugins/1.0/pending/")
    assert app["key"] in {p["key"] for p in third_party(fresh_sim, WIKI)}
