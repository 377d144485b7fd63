"""The Apps page, its REST twin and the exports: every app across domains, each status, sorting by
every column, filters and server-side paging, all checked against the database's own rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from appgov.inventory.listing import SORTS, AppFilter, AppOrder, app_page, app_rows
from support.cli import appgov
from support.console import Console, SignedIn
from support.console_data import Page, domain_ids, seeded_console
from support.oauth_browser import private_simulator
from support.product import connect, runtime_for, sync
from support.simulator import Simulator

SITES = ("acme", "acme-eng", "acme-wiki")
SEARCHED = ("name", "vendor", "key", "installed_by_name")  # the fields the text filter looks in


def _text(value: str | None) -> str | None:
    return value.lower() if value is not None else None


# How each sortable column orders apps (the same rules the query states in SQL), on API-shaped rows.
SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "name": lambda a: a["name"].lower(),
    "key": lambda a: a["key"],
    "vendor": lambda a: _text(a["vendor"]),
    "framework": lambda a: a["framework"],
    "scopes": lambda a: len(a["scopes"]),
    "domain": lambda a: a["domain"].lower(),
    "installed_by": lambda a: _text(a["installed_by_name"] or a["installed_by"]),
    "installed_at": lambda a: a["installed_at"],
    "first_seen": lambda a: a["first_seen"],
    "last_seen": lambda a: a["last_seen"],
    "status": lambda a: a["status"],
}


def expected_order(apps: list[dict[str, Any]], column: str, descending: bool) -> list[int]:
    """Ids in the order the column sorts them: empty values last either way, ties by id."""
    by_id = sorted(apps, key=lambda a: a["id"])
    key = SORT_KEYS[column]
    # a stable sort, reversed or not, keeps ties in id order
    valued = sorted((a for a in by_id if key(a) is not None), key=key, reverse=descending)
    return [a["id"] for a in valued + [a for a in by_id if key(a) is None]]


def test_every_sortable_column_has_its_expected_order() -> None:
    assert set(SORT_KEYS) == set(SORTS)


def test_the_inventory_query_sorts_filters_and_pages_on_both_databases(
    sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = runtime_for(sim, tmp_path, database_url)
    for site in ("acme", "acme-eng"):
        assert sync(runtime, connect(runtime, sim, site)).status == "success"
    with runtime.sessions() as session:
        everything = [vars(row) for row in app_rows(session)]
        truth = sim.ground_truth()["sites"]
        assert len(everything) == sum(
            truth[site]["products"][p]["app_inventory"]["count"]
            for site in ("acme", "acme-eng")
            for p in truth[site]["products"]
        )
        for column in SORTS:
            for descending in (False, True):
                order = AppOrder(column, descending)
                first = app_page(session, AppFilter(), order, 1, 5)
                paged = [
                    row.id
                    for number in range(1, first.pages + 1)
                    for row in app_page(session, AppFilter(), order, number, 5).rows
                ]
                assert paged == expected_order(everything, column, descending), (column, descending)
        acme_eng = next(a["domain_id"] for a in everything if a["domain"] == "acme-eng")
        vendor = next(a["vendor"] for a in everything if a["vendor"])
        needle = vendor[1:5].upper()
        filters = {
            AppFilter(domain_id=acme_eng): lambda a: a["domain_id"] == acme_eng,
            AppFilter(status="enabled"): lambda a: a["status"] == "enabled",
            AppFilter(status="disabled"): lambda a: a["status"] == "disabled",
            AppFilter(text=needle): lambda a: any(needle.lower() in (a[f] or "").lower() for f in SEARCHED),
            AppFilter(domain_id=acme_eng, text="%"): lambda a: False,  # a LIKE wildcard is matched literally
        }
        for where, wanted in filters.items():
            found = app_page(session, where, AppOrder(), 1, 200)
            assert [r.id for r in found.rows] == [
                i
                for i in expected_order(everything, "name", False)
                if wanted(next(a for a in everything if a["id"] == i))
            ], where
            assert found.total == len(found.rows)
        last = app_page(session, AppFilter(), AppOrder(), 99, 5)
        assert (last.page, last.pages) == (first.pages, first.pages)


@pytest.fixture(scope="module")
def tenant() -> Iterator[Simulator]:
    """This module's own simulator: its tenant gets a disabled app and a removed one."""
    yield from private_simulator()


@pytest.fixture(scope="module")
def changed(tenant: Simulator) -> dict[str, dict[str, Any]]:
    """An app disabled on acme's Jira and one uninstalled from acme-wiki, after a first sync."""
    jira = [a for a in tenant.site_get("/rest/plugins/1.0/").json()["plugins"] if a["userInstalled"]]
    wiki = tenant.site_get("/wiki/rest/plugins/1.0/", site="acme-wiki").json()["plugins"]
    disabled = next(a for a in jira if a["enabled"])
    removed = next(a for a in wiki if a["userInstalled"])
    return {"disabled": disabled, "removed": removed}


@pytest.fixture(scope="module")
def console(tenant: Simulator, changed: dict[str, dict[str, Any]]) -> Iterator[Console]:
    def change_apps_and_sync_again(data_dir: Path) -> None:
        tenant.control("POST", f"/sites/acme/apps/jira/{changed['disabled']['key']}/disable", {})
        tenant.control("DELETE", f"/sites/acme-wiki/apps/confluence/{changed['removed']['key']}")
        for site in ("acme", "acme-wiki"):
            assert appgov(tenant, data_dir, "sync", site).returncode == 0

    yield from seeded_console(tenant, SITES, then=change_apps_and_sync_again)


@pytest.fixture(scope="module")
def admin(console: Console) -> SignedIn:
    return console.sign_in()


@pytest.fixture(scope="module")
def apps(admin: SignedIn) -> list[dict[str, Any]]:
    """Every app as the REST API lists it."""
    listed = admin.get("/api/v1/apps", params={"per_page": 200}).json()
    assert listed["total"] == len(listed["items"])
    return list(listed["items"])


def shown(admin: SignedIn, **query: str | int) -> Page:
    page = admin.get("/apps", params=query)
    assert page.status_code == 200
    return Page(page.text)


def ids_of(page: Page) -> list[int]:
    return [int(row.attrs["data-app"]) for row in page.rows("apps")] if "apps" in page.tables else []


def test_the_page_lists_every_app_of_every_domain_with_its_status(
    tenant: Simulator, admin: SignedIn, apps: list[dict[str, Any]], changed: dict[str, dict[str, Any]]
) -> None:
    truth = tenant.ground_truth()["sites"]
    live = sum(
        truth[site]["products"][p]["app_inventory"]["count"]
        for site in SITES
        for p in truth[site]["products"]
    )
    assert len(apps) == live + 1  # the removed app stays, marked removed
    page = shown(admin)
    assert page.ids["total"] == f"{len(apps)} apps"
    assert sorted(ids_of(page)) == sorted(a["id"] for a in apps)
    status = {(a["domain"], a["key"]): a["status"] for a in apps}
    assert status["acme", changed["disabled"]["key"]] == "disabled"
    assert status["acme-wiki", changed["removed"]["key"]] == "removed"
    assert {a["domain"] for a in apps} == set(SITES)
    row = next(r for r in page.rows("apps") if r.attrs["data-app"] == str(apps[0]["id"]))
    assert row.cells[0] == apps[0]["name"] + apps[0]["key"]
    assert row.cells[9] == apps[0]["status"].capitalize()


@pytest.mark.parametrize("column", sorted(SORTS))
def test_sorting_by_each_column_in_both_directions(
    admin: SignedIn, apps: list[dict[str, Any]], column: str
) -> None:
    for direction in ("asc", "desc"):
        page = shown(admin, sort=column, dir=direction)
        assert ids_of(page) == expected_order(apps, column, direction == "desc"), direction
        header = next(a for a in page.anchors if a.get("data-sort") == column)
        link = header["href"]
        assert parse_qs(urlsplit(link).query)["dir"] == ["desc" if direction == "asc" else "asc"]


def test_paging_walks_every_app_once_keeping_sort_and_filters(
    admin: SignedIn, apps: list[dict[str, Any]]
) -> None:
    seen: list[int] = []
    enabled = [a for a in apps if a["status"] == "enabled"]
    query: dict[str, str | int] = {"sort": "vendor", "dir": "desc", "status": "enabled", "per_page": 4}
    while True:
        page = shown(admin, **query)
        assert page.ids["total"].startswith(f"{len(enabled)} apps")
        seen += ids_of(page)
        if "next-page" not in page.elements:
            break
        query = {k: v[0] for k, v in parse_qs(urlsplit(page.elements["next-page"]["href"]).query).items()}
    assert seen == expected_order(enabled, "vendor", True)
    assert len(seen) > 8  # more than two pages were walked
    assert "pages" not in shown(admin).ids  # 50 a page: one page, no pager
    api = admin.get(
        "/api/v1/apps",
        params={"per_page": 4, "page": 2, "sort": "vendor", "dir": "desc", "status": "enabled"},
    )
    assert [a["id"] for a in api.json()["items"]] == seen[4:8]


def test_filters_select_by_domain_status_and_text(
    admin: SignedIn, apps: list[dict[str, Any]], console: Console, changed: dict[str, dict[str, Any]]
) -> None:
    ids = domain_ids(console)
    wiki = shown(admin, domain=ids["acme-wiki"])
    assert sorted(ids_of(wiki)) == sorted(a["id"] for a in apps if a["domain"] == "acme-wiki")
    removed = shown(admin, status="removed")
    assert [r.cells[0] for r in removed.rows("apps")] == [
        changed["removed"]["name"] + changed["removed"]["key"]
    ]
    vendor = changed["disabled"]["vendor"]["name"]
    needle = vendor[1:5].upper()
    found = shown(admin, q=needle, domain=ids["acme"])
    wanted = [
        a["id"]
        for a in apps
        if a["domain"] == "acme" and any(needle.lower() in (a[f] or "").lower() for f in SEARCHED)
    ]
    assert sorted(ids_of(found)) == sorted(wanted)
    assert changed["disabled"]["key"] in {a["key"] for a in apps if a["id"] in wanted}
    nothing = shown(admin, q="no app is called this")
    assert nothing.ids["total"] == "0 apps"
    assert (
        shown(admin, sort="bogus", status="bogus").ids["total"] == f"{len(apps)} apps"
    )  # ignored, not an error
    assert admin.get("/api/v1/apps", params={"sort": "bogus"}).status_code == 422


def test_exports_download_the_filtered_inventory(
    admin: SignedIn, apps: list[dict[str, Any]], changed: dict[str, dict[str, Any]]
) -> None:
    page = shown(admin, status="disabled")
    csv_link = next(v for v in page.links() if v.startswith("/apps/export.csv"))
    download = admin.get(csv_link)
    assert download.headers["content-disposition"] == 'attachment; filename="appgov-apps.csv"'
    rows = list(csv.DictReader(io.StringIO(download.text)))
    disabled = [a for a in apps if a["status"] == "disabled"]
    assert sorted(r["key"] for r in rows) == sorted(a["key"] for a in disabled)
    assert {r["status"] for r in rows} == {"disabled"}
    assert changed["disabled"]["key"] in {r["key"] for r in rows}
    everything = admin.get("/apps/export.json").json()
    assert len(everything) == len(apps)
    api = admin.get("/api/v1/apps/export", params={"format": "csv", "status": "disabled"})
    assert api.text == download.text
    assert admin.get("/api/v1/apps/export", params={"format": "xml"}).status_code == 422


@pytest.fixture(scope="module")
def hostile_console(sim_hostile: Simulator) -> Iterator[Console]:
    """A console over the hostile tenant: vendor text with HTML, script, unsafe links, RTL, huge."""
    yield from seeded_console(sim_hostile, SITES)


UNSAFE_SCHEMES = ("javascript:", "data:", "vbscript:", "//")


def test_hostile_vendor_text_is_escaped_and_unsafe_links_are_never_links(hostile_console: Console) -> None:
    admin = hostile_console.sign_in()
    apps = admin.get("/api/v1/apps", params={"per_page": 200}).json()["items"]
    html = admin.get("/apps", params={"per_page": 200}).text
    page = Page(html)
    names = {a["name"] for a in apps} | {a["vendor"] for a in apps if a["vendor"]}
    for hostile in ("<script>", "<img src=x onerror", "\u202e", "\x1b[31m"):
        assert any(hostile in name for name in names), hostile
    links = {a["vendor_link"] for a in apps if a["vendor_link"]}
    for scheme in ("javascript:", "data:"):
        assert any(link.lower().startswith(scheme) for link in links), scheme
    assert any(len(link) > 9_000 for link in links)
    # every upstream string reaches the page as text, none as markup
    assert "<script>alert" not in html
    assert "<img src=x" not in html.lower()
    assert "&lt;script&gt;alert(" in html
    cells = " ".join(cell for row in page.rows("apps") for cell in row.cells)
    assert all(name.replace("\x00", "") in cells for name in names)
    unsafe = [v for v in page.links() if v.strip().lower().startswith(UNSAFE_SCHEMES)]
    assert unsafe == []
    assert not [name for tag, name, _ in page.attributes if name.lower().startswith("on")]
    safe_vendor = next(a for a in apps if (a["vendor_link"] or "").startswith("https://") and a["vendor"])
    assert any(anchor.get("href") == safe_vendor["vendor_link"] for anchor in page.anchors)


@pytest.mark.browser
def test_hostile_apps_page_runs_no_script_and_stays_within_the_window(
    hostile_console: Console, chromium: Any
) -> None:
    from support.console import ADMIN_EMAIL, ADMIN_PASSWORD

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    browser = context.new_page()
    browser.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    browser.goto(f"{hostile_console.url}/apps?per_page=200")  # sign-in first, then back here
    browser.fill("input[name=email]", ADMIN_EMAIL)
    browser.fill("input[name=password]", ADMIN_PASSWORD)
    with browser.expect_navigation(url="**/apps?per_page=200"):
        browser.click("button[type=submit]")
    widths = browser.evaluate(
        """() => ({
            window: window.innerWidth,
            page: document.documentElement.scrollWidth,
            table: document.querySelector('#apps').scrollWidth,
            box: document.querySelector('.table-scroll').clientWidth,
        })"""
    )
    for row in browser.query_selector_all("#apps a[data-sort], #apps tbody a"):
        assert not (row.get_attribute("href") or "").lower().startswith(UNSAFE_SCHEMES)
    context.close()
    assert dialogs == []
    assert widths["page"] <= widths["window"], widths
    assert widths["table"] <= widths["box"], widths
