"""Who installed each app, from documented sources only (connectors/atlassian/installers.py): a
Forge app's installer and install time from the site's GraphQL gateway (``createdBy``,
``createdAt``), named by the site's Jira directory, or by the gateway on a Confluence-only site;
the Jira and Confluence audit logs are never read for it, so an app no documented source covers has
an unknown installer, with the reason. Hostile names are stored as one line without control
characters; the Apps page, its filter, the REST API and the exports show them and their source
(escaped, formula-safe)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from appgov.inventory.listing import AppFilter, AppOrder, app_page
from appgov.runtime import Runtime
from appgov.storage.models import App, Domain
from support.cli import appgov
from support.console import Console, SignedIn
from support.console_data import Page, seeded_console
from support.oauth_browser import private_simulator
from support.product import connect, runtime_for, sync
from support.simulator import Simulator

SITES = ("acme", "acme-wiki")  # acme has Jira and Confluence; acme-wiki Confluence only
# display names as a hostile tenant could set them, and what appgov keeps of them
JIRA_INSTALLER = "@SUM(1)<img src=x onerror=alert(1)>\x00\u202eJo\tJira\x1b[31m"
JIRA_KEPT = "@SUM(1)<img src=x onerror=alert(1)>Jo Jira[31m"
WIKI_INSTALLER = '=HYPERLINK("https://evil.example")<script>alert(1)</script>\n\u2066Zelda\x00 Wiki '
WIKI_KEPT = '=HYPERLINK("https://evil.example")<script>alert(1)</script> Zelda Wiki'
FORGE = "ari:cloud:ecosystem::app/"


def add_person(sim: Simulator, site: str, display_name: str) -> str:
    """A new account in the site's directory, by its account id."""
    email = f"installer-{site}@example.com"
    added = sim.control("POST", f"/sites/{site}/users", {"email": email, "display_name": display_name})
    return str(added.json()["account_id"])


def gateway_installations(sim: Simulator, site: str) -> list[dict[str, Any]]:
    """The site's Forge installations as its GraphQL gateway lists them (one page: tiny tenant)."""
    contexts = [f"ari:cloud:{p}::site/{sim.site(site)['cloud_id']}" for p in sim.site(site)["products"]]
    query = "{ ecosystem { appInstallationsByContext { nodes { app { id } createdBy { accountId } } } } }"
    answer = sim.http.post(
        sim.site_url(site) + "/gateway/api/graphql",
        json={"query": query, "variables": {"contexts": contexts, "first": 100}},
        headers=sim.basic(),
    )
    return list(answer.json()["data"]["ecosystem"]["appInstallationsByContext"]["nodes"])


def install_as(sim: Simulator, site: str, product: str, account_id: str) -> dict[str, Any]:
    """A Forge app from the Marketplace the site does not have yet, installed by the account."""
    installed = {node["app"]["id"] for node in gateway_installations(sim, site)}
    listings = sim.get("/marketplace/rest/2/addons", params={"limit": 50}).json()["_embedded"]["addons"]
    for key in (a["key"] for a in listings if a["key"].startswith(FORGE) and a["key"] not in installed):
        body = {"product": product, "key": key, "actor": account_id}
        try:
            return dict(sim.control("POST", f"/sites/{site}/apps", body).json())
        except httpx.HTTPStatusError:  # a listing for the other product only
            continue
    raise AssertionError(f"no Forge listing left to install on {site} {product}")


def directory_names(sim: Simulator, site: str) -> dict[str, str]:
    users = sim.site_get("/rest/api/3/users/search", site=site, params={"maxResults": 1000}).json()
    return {user["accountId"]: user["displayName"] for user in users}


def apps_of(runtime: Runtime, site: str, product: str) -> dict[str, App]:
    with runtime.sessions() as session:
        found = session.scalars(
            select(App)
            .join(Domain, Domain.id == App.domain_id)
            .where(Domain.name == site, App.product == product)
        )
        return {app.key: app for app in found}


def installer_names(runtime: Runtime) -> dict[int, tuple[str, str | None]]:
    with runtime.sessions() as session:
        return {app.id: (app.product, app.installed_by_name) for app in session.scalars(select(App))}


def test_forge_installers_come_from_the_gateway_named_by_the_jira_directory_or_the_gateway(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    jira_installer = add_person(fresh_sim, "acme", JIRA_INSTALLER)
    wiki_installer = add_person(fresh_sim, "acme-wiki", WIKI_INSTALLER)
    runtime = runtime_for(fresh_sim, tmp_path, database_url)
    domains = [connect(runtime, fresh_sim, site) for site in SITES]
    for domain in domains:
        assert sync(runtime, domain).status == "success"
    jira_app = install_as(fresh_sim, "acme", "jira", jira_installer)
    wiki_app = install_as(fresh_sim, "acme-wiki", "confluence", wiki_installer)
    for domain in domains:
        assert sync(runtime, domain).status == "success"

    jira = apps_of(runtime, "acme", "jira")
    installed = jira[jira_app["key"]]
    assert (installed.installed_by, installed.installed_by_name, installed.installed_source) == (
        jira_installer,
        JIRA_KEPT,
        "gateway",
    )
    assert installed.installed_at == datetime.fromtimestamp(jira_app["installed_ms"] / 1000, tz=UTC)
    directory = directory_names(fresh_sim, "acme")
    others = [app for key, app in jira.items() if app.installed_by and key != jira_app["key"]]
    assert others
    assert all(app.installed_by_name == directory[str(app.installed_by)] for app in others)
    wiki = apps_of(runtime, "acme-wiki", "confluence")
    assert (wiki[wiki_app["key"]].installed_by, wiki[wiki_app["key"]].installed_by_name) == (
        wiki_installer,
        WIKI_KEPT,
    )
    others = [app for key, app in wiki.items() if app.installed_by and key != wiki_app["key"]]
    assert others
    assert all(app.installed_by_name for app in others)  # with no directory on the site at all

    with runtime.sessions() as session:
        for needle, app in (("zELDA", wiki_app), ("jo jira", jira_app)):
            found = app_page(session, AppFilter(text=needle), AppOrder(), 1, 200).rows
            assert [row.key for row in found] == [app["key"]], needle


def test_no_product_audit_log_names_an_installer_and_the_unknown_ones_say_why(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    # the simulator's switch puts app changes in the Jira and Confluence audit logs: appgov must
    # still not read them (Atlassian does not document them there)
    fresh_sim.control("PUT", "/switches", {"app_audit_records": True})
    runtime = runtime_for(fresh_sim, tmp_path)
    for site in SITES:
        assert sync(runtime, connect(runtime, fresh_sim, site)).status == "success"
    with runtime.sessions() as session:
        apps = list(session.scalars(select(App)))
        rows = {row.key: row for row in app_page(session, AppFilter(), AppOrder(), 1, 200).rows}
    connect_apps = [a for a in apps if not a.key.startswith(FORGE)]
    assert connect_apps
    assert {(a.installed_by, a.installed_at, a.installed_source) for a in connect_apps} == {
        (None, None, None)
    }
    assert {rows[a.key].installer_unknown_reason for a in connect_apps} == {
        "no documented source names the installer: connect an organization"
    }
    forge = [a for a in apps if a.key.startswith(FORGE)]
    assert forge
    assert {a.installed_source for a in forge} == {"gateway"}
    assert all(a.installed_by and a.installed_at for a in forge)
    assert {rows[a.key].installer_unknown_reason for a in forge} == {None}


def test_apps_synced_before_names_were_kept_are_named_at_the_next_sync(
    sim: Simulator, tmp_path: Path
) -> None:
    runtime = runtime_for(sim, tmp_path)
    domains = [connect(runtime, sim, site) for site in SITES]
    for domain in domains:
        sync(runtime, domain)
    named = installer_names(runtime)
    with runtime.sessions.begin() as session:  # as migration 0004 leaves them
        session.execute(update(App).values(installed_by_name=None))
    for domain in domains:
        sync(runtime, domain)
    assert installer_names(runtime) == named
    assert {product for product, name in named.values() if name} == {"jira", "confluence"}


@pytest.fixture(scope="module")
def tenant() -> Iterator[Simulator]:
    """This module's own simulator: hostile people install an app on acme's Jira and on acme-wiki."""
    yield from private_simulator()


@pytest.fixture(scope="module")
def installs(tenant: Simulator) -> dict[str, dict[str, Any]]:
    """Each hostile person's account id and, once the console's data is seeded, the app installed."""
    return {
        "jira": {"site": "acme", "account": add_person(tenant, "acme", JIRA_INSTALLER), "kept": JIRA_KEPT},
        "confluence": {
            "site": "acme-wiki",
            "account": add_person(tenant, "acme-wiki", WIKI_INSTALLER),
            "kept": WIKI_KEPT,
        },
    }


@pytest.fixture(scope="module")
def console(tenant: Simulator, installs: dict[str, dict[str, Any]]) -> Iterator[Console]:
    def install_and_sync_again(data_dir: Path) -> None:
        for product, person in installs.items():
            person["app"] = install_as(tenant, person["site"], product, person["account"])
        for site in SITES:
            assert appgov(tenant, data_dir, "sync", site).returncode == 0

    yield from seeded_console(tenant, SITES, then=install_and_sync_again)


@pytest.fixture(scope="module")
def admin(console: Console) -> SignedIn:
    return console.sign_in()


def test_the_apps_page_shows_each_installer_by_name_above_the_account_id_and_its_source(
    admin: SignedIn, installs: dict[str, dict[str, Any]]
) -> None:
    listed = admin.get("/api/v1/apps", params={"per_page": 200}).json()["items"]
    html = admin.get("/apps", params={"per_page": 200}).text
    rows = {row.attrs["data-app"]: row for row in Page(html).rows("apps")}
    for product, person in installs.items():
        app = next(a for a in listed if (a["product"], a["key"]) == (product, person["app"]["key"]))
        assert (app["installed_by"], app["installed_by_name"]) == (person["account"], person["kept"])
        assert app["installed_source"] == "gateway"
        assert rows[str(app["id"])].cells[5] == person["kept"] + person["account"] + "from the site's gateway"
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Zelda Wiki" in html
    account = installs["confluence"]["account"]
    assert (
        f'<code class="muted clip" title="Atlassian account id {account}"><bdi>{account}</bdi></code>' in html
    )
    found = Page(admin.get("/apps", params={"q": "Zelda"}).text).rows("apps")
    assert [row.cells[0] for row in found] == [
        installs["confluence"]["app"]["name"] + installs["confluence"]["app"]["key"]
    ]


def by_app(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["product"], row["key"]): row for row in rows}


def test_exports_carry_the_installer_name_and_source_beside_the_account_id_formula_safe(
    admin: SignedIn, installs: dict[str, dict[str, Any]]
) -> None:
    exported = by_app(json.loads(admin.get("/apps/export.json").text))
    spreadsheet = by_app(csv.DictReader(io.StringIO(admin.get("/apps/export.csv").text)))
    for product, person in installs.items():
        app = (product, person["app"]["key"])
        assert (exported[app]["installed_by"], exported[app]["installed_by_name"]) == (
            person["account"],
            person["kept"],
        )
        assert exported[app]["installed_source"] == spreadsheet[app]["installed_source"] == "gateway"
        assert spreadsheet[app]["installed_by"] == person["account"]
        # both names start like a formula (@ and =): the cell says them as text
        assert spreadsheet[app]["installed_by_name"] == "'" + person["kept"]
    api = admin.get("/api/v1/apps/export", params={"format": "csv", "q": "Jo Jira"})
    assert [row["key"] for row in csv.DictReader(io.StringIO(api.text))] == [installs["jira"]["app"]["key"]]


def test_the_plugin_managers_feed_names_installers_where_the_site_serves_it_after_the_gateway(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    fresh_sim.control("PUT", "/switches", {"upm_log_feed": True, "forge_apps": "both"})
    runtime = runtime_for(fresh_sim, tmp_path, database_url)
    assert sync(runtime, connect(runtime, fresh_sim, "acme")).status == "success"
    apps = apps_of(runtime, "acme", "jira")
    assert {a.installed_source for k, a in apps.items() if not k.startswith(FORGE)} == {"upm_feed"}
    assert {a.installed_source for k, a in apps.items() if k.startswith(FORGE)} == {"gateway"}
    directory = directory_names(fresh_sim, "acme")
    assert all(
        a.installed_at and a.installed_by_name == directory[str(a.installed_by)] for a in apps.values()
    )

    fresh_sim.control("PUT", "/switches", {"forge_apps": "upm"})  # the gateway lists none
    assert sync(runtime, connect(runtime, fresh_sim, "acme-eng")).status == "success"
    eng = apps_of(runtime, "acme-eng", "jira")
    assert eng
    assert {a.installed_source for a in eng.values()} == {"upm_feed"}
