"""The console in a real browser (Debian's Chromium through Playwright): add a site through the
simulator's sign-in and consent pages, the ready email, several domains, Sync now, reconnect after the
grant expires, edit the API key and delete, each with its confirmation; the red last-synced highlight.

Screenshots of each page go to a temporary directory, or to ``docs/images`` with
``APPGOV_SCREENSHOTS=1`` (how the README's pictures are made).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.console import ADMIN_EMAIL, ADMIN_PASSWORD, Console, console_simulator, free_port
from support.integrations import domain_named, wait_idle
from support.smtp import SmtpServer

# one story, in order: `make test` runs each file whole in one worker (pytest -n 2 --dist loadfile)
pytestmark = pytest.mark.browser

DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
SUCCESS_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def console(smtp: SmtpServer) -> Iterator[Console]:
    port = free_port()
    sim = console_simulator(port)
    running = Console(
        sim,
        port,
        APPGOV_SMTP_HOST="127.0.0.1",
        APPGOV_SMTP_PORT=str(smtp.port),
        APPGOV_MAIL_FROM="appgov@example.com",
    )
    yield running
    running.stop()
    sim.stop()


@pytest.fixture(scope="module")
def page(chromium: Any, console: Console) -> Iterator[Any]:
    """One signed-in browser tab for the module's story (its tests run in order, as a user would)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    tab.goto(f"{console.url}/integrations")
    tab.fill("input[name=email]", ADMIN_EMAIL)
    tab.fill("input[name=password]", ADMIN_PASSWORD)
    tab.click("button:has-text('Sign in')")
    tab.wait_for_url("**/integrations")
    yield tab
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("APPGOV_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        return DOCS_IMAGES
    return tmp_path_factory.mktemp("screenshots")


def snap(page: Any, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one


def consent_in_browser(page: Any, console: Console, site: str, shots: Path | None = None) -> None:
    """At the simulated Atlassian: sign in when asked, pick the site, Accept."""
    account = console.sim.state["accounts"]["site_admin"]
    if page.locator("input[name=password]").count():
        page.fill("input[name=email]", account["email"])
        page.fill("input[name=password]", account["password"])
        page.click("button[type=submit]")
    page.wait_for_selector("button[value=allow]")
    if page.locator("select[name=site]").count():
        page.select_option("select[name=site]", console.sim.site(site)["cloud_id"])
    if shots is not None:
        snap(page, shots, "consent")
    page.click("button[value=allow]")


def add_site(page: Any, console: Console, site: str, shots: Path | None = None) -> None:
    """Integrations → Add → consent → pick the site → API key → Connect."""
    page.goto(f"{console.url}/integrations")
    page.click("#platform-atlassian button:has-text('Add')")
    consent_in_browser(page, console, site, shots)
    page.wait_for_url("**/integrations/atlassian/connect**")
    page.select_option("select[name=site]", console.sim.site(site)["cloud_id"])
    account = console.sim.state["accounts"]["site_admin"]
    assert page.input_value("input[name=email]") == account["email"]  # prefilled from the consent
    page.fill("input[name=api_token]", account["api_token"])
    if shots is not None:
        snap(page, shots, "connect")
    page.click("button:has-text('Connect')")
    page.wait_for_url("**/integrations**")


def row_of(page: Any, console: Console, site: str) -> Any:
    domain = domain_named(console, site)
    assert domain is not None, f"{site} is not connected"
    return page.locator(f"#domain-{domain.id}")


def test_adding_a_site_shows_it_in_progress_then_success_and_emails_the_admin_once(
    page: Any, console: Console, smtp: SmtpServer, shots: Path
) -> None:
    add_site(page, console, "acme", shots)
    row = row_of(page, console, "acme")
    assert "still processing" in page.inner_text("main") or "Success" in row.inner_text()
    assert console.sim.state["accounts"]["site_admin"]["api_token"][-4:] in row.inner_text()
    assert console.sim.state["accounts"]["site_admin"]["api_token"] not in page.content()
    # the domains table refreshes itself (htmx) until the first sync is done
    row.locator(".status.success").wait_for(timeout=SUCCESS_TIMEOUT_MS)
    assert "N/A" not in row.locator(".synced").inner_text()

    deadline = time.monotonic() + 60
    while not smtp.inbox.messages and time.monotonic() < deadline:
        time.sleep(0.2)  # the mail sender's next pass, with a deadline
    assert smtp.inbox.recipients == [[ADMIN_EMAIL]]
    assert "acme" in str(smtp.inbox.messages[0]["Subject"])


def test_several_domains_are_listed_under_the_platform(page: Any, console: Console, shots: Path) -> None:
    add_site(page, console, "acme-wiki")
    row_of(page, console, "acme-wiki").locator(".status.success").wait_for(timeout=SUCCESS_TIMEOUT_MS)
    rows = page.locator("#platform-atlassian details.domains tbody tr")
    assert rows.count() == 2
    assert "2 domains" in page.inner_text("#platform-atlassian .platform-head")
    # one Atlassian account consented to both: each row says so, and Reconnect renews both
    assert row_of(page, console, "acme").locator(".consent").inner_text() == "one consent with acme-wiki"
    assert row_of(page, console, "acme-wiki").locator(".consent").is_visible()
    assert row_of(page, console, "acme").locator("button:has-text('Reconnect all 2')").is_visible()
    snap(page, shots, "integrations")


def test_sync_now_on_the_domain_page_runs_a_sync(page: Any, console: Console, shots: Path) -> None:
    domain = domain_named(console, "acme")
    assert domain is not None
    before = wait_idle(console, domain.id).id
    page.goto(f"{console.url}/domains/{domain.id}")
    page.click("button:has-text('Sync now')")
    page.locator("#activity button:has-text('Sync now')").wait_for(timeout=SUCCESS_TIMEOUT_MS)
    assert wait_idle(console, domain.id).id > before
    assert page.locator("#datasets tr[data-status=ok]").count() > 10
    snap(page, shots, "domain")


def test_an_expired_grant_shows_its_reason_and_reconnect_fixes_it(page: Any, console: Console) -> None:
    sim = console.sim
    domain = domain_named(console, "acme")
    assert domain is not None
    sim.control("POST", "/tokens/refresh/expire", {})
    sim.control("POST", "/tokens/access/expire", {})
    page.goto(f"{console.url}/domains/{domain.id}")
    page.click("button:has-text('Sync now')")
    page.locator("#status .status.error").wait_for(timeout=SUCCESS_TIMEOUT_MS)
    assert "grant expired" in page.inner_text("#status").lower()

    page.goto(f"{console.url}/integrations")
    row_of(page, console, "acme").locator("button:has-text('Reconnect')").click()
    consent_in_browser(page, console, "acme")
    page.wait_for_url("**/integrations**")
    assert "acme is reconnected" in page.inner_text("main")
    row_of(page, console, "acme").locator(".status.success").wait_for(timeout=SUCCESS_TIMEOUT_MS)


def test_edit_api_key_asks_to_confirm_then_replaces_it(page: Any, console: Console, shots: Path) -> None:
    account = console.sim.state["accounts"]["site_admin"]
    page.goto(f"{console.url}/integrations")
    row_of(page, console, "acme").locator("a:has-text('Edit API key')").click()
    page.fill("input[name=email]", account["email"])
    page.fill("input[name=api_token]", account["api_token"])
    snap(page, shots, "edit-api-key")
    page.click("button:has-text('Replace the API key')")
    assert page.url.endswith("/api-key")  # the confirmation box is required: nothing was sent
    page.check("input[name=confirm]")
    page.click("button:has-text('Replace the API key')")
    page.wait_for_url("**/integrations**")
    assert "replaced" in page.inner_text("main").lower()


def test_delete_asks_for_the_name_then_removes_the_domain(page: Any, console: Console, shots: Path) -> None:
    page.goto(f"{console.url}/integrations")
    row_of(page, console, "acme-wiki").locator("a:has-text('Delete')").click()
    snap(page, shots, "delete")
    page.fill("input[name=confirm_name]", "not the name")
    page.click("button:has-text('Delete this domain')")
    assert domain_named(console, "acme-wiki") is not None
    page.fill("input[name=confirm_name]", "acme-wiki")
    page.click("button:has-text('Delete this domain')")
    page.wait_for_url("**/integrations**")
    assert domain_named(console, "acme-wiki") is None
    assert page.locator("#platform-atlassian details.domains tbody tr").count() == 1


def test_the_apps_page_lists_the_inventory(page: Any, console: Console, shots: Path) -> None:
    page.goto(f"{console.url}/apps")
    assert page.locator("table tbody tr").count() > 0
    snap(page, shots, "apps")


def test_a_sync_slower_than_the_threshold_turns_last_synced_red(chromium: Any) -> None:
    port = free_port()
    sim = console_simulator(port)
    slow = Console(sim, port, APPGOV_SLOW_SYNC_MINUTES="0.0001")  # any real sync takes longer than 6 ms
    context = chromium.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{slow.url}/login")
        tab.fill("input[name=email]", ADMIN_EMAIL)
        tab.fill("input[name=password]", ADMIN_PASSWORD)
        tab.click("button:has-text('Sign in')")
        add_site(tab, slow, "acme")
        late = row_of(tab, slow, "acme").locator(".synced.late")
        late.wait_for(timeout=SUCCESS_TIMEOUT_MS)
        color = late.evaluate("element => getComputedStyle(element).color")
        assert color == "rgb(174, 46, 36)"  # --red
        assert tab.locator("#platform-synced-atlassian .late").count() == 1  # the platform row too
    finally:
        context.close()
        slow.stop()
        sim.stop()
