"""The optional organization in the console and the REST API, over real HTTP: ``appgov serve``
against a hostile simulator. Without one the Integrations page says what connecting one adds; a bad
key is refused and never echoed; once connected the background runner reads it, its page shows the
app actions, API tokens and the organization's API keys escaped (WS-06), and replace and delete
need their confirmations."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from markupsafe import escape

from support.console import Console
from support.integrations import running_console

DEADLINE = 60.0


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    yield from running_console(hostile=True)


def test_connect_read_show_escaped_replace_and_delete_an_organization(console: Console) -> None:
    sim, signed = console.sim, console.sign_in()
    key = sim.state["org"]["api_key"]
    page = signed.get("/integrations").text
    assert "who installed" in page
    assert "API tokens of your managed accounts" in page

    refused = signed.post_form("/integrations/atlassian/organization", {"api_key": "not-the-key"})
    assert refused.status_code == 400
    assert "refused the organization API key" in refused.text
    assert "not-the-key" not in refused.text
    assert signed.api("POST", "/api/v1/organizations", json={"api_key": "x y"}).status_code == 400

    sim.install_new_app()  # a hostile app name in the org audit log
    connected = signed.post_form("/integrations/atlassian/organization", {"api_key": key})
    assert connected.status_code == 303
    assert "The organization Acme" in signed.get(connected.headers["location"]).text
    listed = signed.api("GET", "/api/v1/organizations").json()
    assert [o["api_key"] for o in listed] == ["\u2022" * 4 + key[-4:]]
    org_id = listed[0]["id"]

    deadline = time.monotonic() + DEADLINE
    while signed.api("GET", f"/api/v1/organizations/{org_id}").json()["last_read_at"] is None:
        assert time.monotonic() < deadline, "the organization was not read"
        time.sleep(0.2)  # polling the background runner, not timing a result
    events = signed.api("GET", f"/api/v1/organizations/{org_id}/app-events").json()
    tokens = signed.api("GET", f"/api/v1/organizations/{org_id}/api-tokens").json()
    assert {e["kind"] for e in events} >= {"install"}
    assert tokens
    assert all(t["owner_account_id"] for t in tokens)
    keys = signed.api("GET", f"/api/v1/organizations/{org_id}/api-keys").json()
    assert {(k["label"], k["created_by_email"]) for k in keys} >= {
        ("appgov", sim.state["accounts"]["site_admin"]["email"])
    }
    assert all(k["created_at"] and k["scopes"] for k in keys)
    assert any(k["label"] != escape(k["label"]) for k in keys)  # the hostile tenant's labels need escaping
    assert signed.api("GET", "/api/v1/organizations/999999/api-keys").status_code == 404

    html = signed.get(f"/organizations/{org_id}").text
    assert key not in html
    assert "App successful installation" in html
    assert "API keys of the organization" in html
    assert all(str(escape(k["label"])) in html for k in keys)  # every key's label, shown as text
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=" in html  # the tenant's hostile app name, shown as text
    assert not re.search(r"""href\s*=\s*["']?\s*(javascript|data):""", html, re.IGNORECASE)

    unconfirmed = signed.post_form(f"/organizations/{org_id}/api-key", {"api_key": key})
    assert unconfirmed.status_code == 400
    replaced = signed.post_form(f"/organizations/{org_id}/api-key", {"api_key": key, "confirm": "yes"})
    assert "was replaced" in signed.get(replaced.headers["location"]).text
    api_unconfirmed = signed.api("PUT", f"/api/v1/organizations/{org_id}/api-key", json={"api_key": key})
    assert api_unconfirmed.status_code == 400
    assert key not in api_unconfirmed.text

    assert signed.post_form(f"/organizations/{org_id}/delete", {"confirm_name": "nope"}).status_code == 400
    deleted = signed.post_form(f"/organizations/{org_id}/delete", {"confirm_name": "Acme"})
    assert "was deleted" in signed.get(deleted.headers["location"]).text
    assert signed.api("GET", "/api/v1/organizations").json() == []
    assert signed.api("GET", f"/api/v1/organizations/{org_id}/app-events").status_code == 404
