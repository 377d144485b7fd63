"""The domain lifecycle over the REST API (``/api/v1``), against ``appgov serve`` and the simulator:
list, add with an API token, the OAuth step (authorization URL, then pick a site), replace the API
token, reconnect, delete; OpenAPI documents it; tokens never come back, not even in errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from appgov.storage.models import ApiToken, AtlassianSite, Domain
from support.console import ADMIN_EMAIL, Console, SignedIn, console_db
from support.integrations import (
    audit_events,
    consent,
    count,
    last_audit_id,
    one_audit_event,
    query_of,
    running_console,
    signed_in,
)

FIELDS = {
    "id", "name", "site_url", "products", "api_key", "api_key_owner", "first_connected_at",
    "first_connected_by", "last_synced_at", "last_sync_seconds", "late", "late_reason", "status",
    "status_reason", "outcome", "reconsent_by", "consent_shared_with", "credentials",
}  # fmt: skip


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    yield from running_console()


@pytest.fixture
def signed(console: Console) -> Iterator[SignedIn]:
    yield from signed_in(console)


def account(console: Console, who: str = "site_admin") -> dict[str, Any]:
    return dict(console.sim.state["accounts"][who])


def add_body(console: Console, site: str = "acme", who: str = "site_admin") -> dict[str, str]:
    who_ = account(console, who)
    return {"site_url": console.sim.site_url(site), "email": who_["email"], "api_token": who_["api_token"]}


def test_add_with_an_api_token_answers_201_with_the_masked_key_and_lists_it(
    console: Console, signed: SignedIn
) -> None:
    mark = last_audit_id(console)
    assert signed.api("GET", "/api/v1/domains").json() == []
    token = account(console)["api_token"]
    answer = signed.api("POST", "/api/v1/domains", json=add_body(console))
    assert answer.status_code == 201
    assert token not in answer.text
    domain = answer.json()
    assert set(domain) == FIELDS
    assert domain["name"] == "acme"
    assert domain["api_key"] == "\u2022\u2022\u2022\u2022" + token[-4:]
    assert domain["first_connected_by"] == ADMIN_EMAIL
    assert domain["last_synced_at"] is None
    assert domain["status"] == "In progress"
    listed = signed.api("GET", "/api/v1/domains").json()
    assert [d["id"] for d in listed] == [domain["id"]]
    event = one_audit_event(console, "domain.added", mark, answer, token)
    assert (event.actor_via, event.target) == ("api", domain["site_url"])  # the REST API, not a page


@pytest.mark.parametrize(
    ("who", "token", "status", "detail"),
    [
        ("expired_token_admin", None, 400, "Atlassian refused the API token"),
        ("ordinary", None, 400, "is not a site admin"),
        ("site_admin", "two words", 400, "the API token is empty or malformed"),
    ],
    ids=["expired", "not-a-site-admin", "malformed"],
)
def test_add_refuses_a_bad_token_with_a_clear_message_and_stores_nothing(
    console: Console, signed: SignedIn, who: str, token: str | None, status: int, detail: str
) -> None:
    body = add_body(console, who=who)
    if token is not None:
        body["api_token"] = token
    answer = signed.api("POST", "/api/v1/domains", json=body)
    assert answer.status_code == status
    assert detail in answer.json()["detail"]
    assert body["api_token"] not in answer.text
    assert count(console, Domain) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"site_url": "https://acme.atlassian.net", "email": "a@b.c", "apitoken": "SECRET-TOKEN-VALUE"},
        {"site_url": "https://acme.atlassian.net", "email": ["SECRET-TOKEN-VALUE"], "api_token": "x"},
        {
            "site_url": "https://acme.atlassian.net",
            "email": "a@b.c",
            "api_token": {"v": "SECRET-TOKEN-VALUE"},
        },
    ],
    ids=["misspelled-field", "wrong-type-beside-it", "token-of-the-wrong-type"],
)
def test_validation_errors_are_422_and_never_echo_what_was_sent(
    signed: SignedIn, body: dict[str, Any]
) -> None:
    answer = signed.api("POST", "/api/v1/domains", json=body)
    assert answer.status_code == 422
    assert "SECRET-TOKEN-VALUE" not in answer.text
    assert answer.json()["detail"][0]["loc"][0] == "body"


def test_the_oauth_step_is_bound_to_the_callers_session_and_ends_with_a_picked_site(
    console: Console, signed: SignedIn
) -> None:
    started = signed.api("POST", "/api/v1/integrations/atlassian/authorize")
    assert started.status_code == 200
    flow_id, url = started.json()["flow_id"], started.json()["authorization_url"]
    assert query_of(url)["code_challenge_method"] == "S256"
    assert signed.get(consent(console.sim, url, site="acme-eng")).status_code == 303
    other = console.sign_in()
    assert other.api("GET", f"/api/v1/integrations/atlassian/flows/{flow_id}").status_code == 400

    pending = signed.api("GET", f"/api/v1/integrations/atlassian/flows/{flow_id}").json()
    assert pending["account_email"] == account(console)["email"]
    eng = console.sim.site("acme-eng")["cloud_id"]
    assert eng in [s["cloud_id"] for s in pending["sites"]]
    connect = {
        "cloud_id": eng,
        "email": account(console)["email"],
        "api_token": account(console)["api_token"],
    }
    added = signed.api("POST", f"/api/v1/integrations/atlassian/flows/{flow_id}/connect", json=connect)
    assert added.status_code == 201
    assert added.json()["name"] == "acme-eng"
    assert account(console)["api_token"] not in added.text
    again = signed.api("GET", f"/api/v1/integrations/atlassian/flows/{flow_id}").json()
    assert eng not in [s["cloud_id"] for s in again["sites"]]


def test_replacing_the_api_token_needs_confirm_and_a_token_that_works(
    console: Console, signed: SignedIn
) -> None:
    domain = signed.api("POST", "/api/v1/domains", json=add_body(console)).json()
    path = f"/api/v1/domains/{domain['id']}/api-token"

    def secret() -> bytes:
        with console_db(console) as session:
            return session.scalars(select(ApiToken.secret).where(ApiToken.domain_id == domain["id"])).one()

    before = secret()
    admin, ordinary = account(console), account(console, "ordinary")
    unconfirmed = signed.api("PUT", path, json={"email": admin["email"], "api_token": admin["api_token"]})
    assert unconfirmed.status_code == 400
    assert '"confirm": true' in unconfirmed.json()["detail"]
    bad = {"email": ordinary["email"], "api_token": ordinary["api_token"], "confirm": True}
    refused = signed.api("PUT", path, json=bad)
    assert refused.status_code == 400
    assert "not a site admin" in refused.json()["detail"]
    assert secret() == before
    good = {"email": admin["email"], "api_token": admin["api_token"], "confirm": True}
    mark = last_audit_id(console)
    replaced = signed.api("PUT", path, json=good)
    assert replaced.status_code == 200
    one_audit_event(console, "domain.api_key_replaced", mark, replaced, admin["api_token"])
    assert replaced.json()["api_key"] == "\u2022\u2022\u2022\u2022" + admin["api_token"][-4:]
    assert secret() != before
    assert signed.api("PUT", "/api/v1/domains/999999/api-token", json=good).status_code == 404


def test_reconnect_returns_an_authorization_url_whose_callback_rebinds_the_grant(
    console: Console, signed: SignedIn
) -> None:
    mark = last_audit_id(console)
    domain = signed.api("POST", "/api/v1/domains", json=add_body(console)).json()
    started = signed.api("POST", f"/api/v1/domains/{domain['id']}/reconnect")
    assert started.status_code == 200
    back = signed.get(consent(console.sim, started.json()["authorization_url"], site="acme"))
    assert back.status_code == 303
    assert [e.actor for e in audit_events(console, "domain.reconnected", mark)] == [ADMIN_EMAIL]
    with console_db(console) as session:
        stored = session.get_one(AtlassianSite, domain["id"])
    assert stored.oauth_grant_id is not None
    assert stored.cloud_id == console.sim.site("acme")["cloud_id"]
    assert signed.api("POST", "/api/v1/domains/999999/reconnect").status_code == 404


def test_delete_needs_confirm_then_removes_the_domain_and_leaves_an_audit_event(
    console: Console, signed: SignedIn
) -> None:
    mark = last_audit_id(console)
    domain = signed.api("POST", "/api/v1/domains", json=add_body(console)).json()
    path = f"/api/v1/domains/{domain['id']}"
    assert signed.api("DELETE", path).status_code == 400
    assert count(console, Domain) == 1
    deleted = signed.api("DELETE", f"{path}?confirm=true")
    assert deleted.status_code == 204
    assert signed.api("GET", "/api/v1/domains").json() == []
    assert count(console, ApiToken) == 0
    assert one_audit_event(console, "domain.deleted", mark, deleted).target == domain["site_url"]
    assert signed.api("DELETE", f"{path}?confirm=true").status_code == 404


def test_the_api_needs_a_session_and_openapi_documents_every_endpoint(
    console: Console, signed: SignedIn
) -> None:
    anonymous = console.client()
    assert anonymous.get("/api/v1/domains").status_code == 401
    assert anonymous.post("/api/v1/domains", json={}).status_code in (401, 403)
    schema = signed.get("/api/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/domains": {"get", "post"},
        "/api/v1/domains/{domain_id}": {"delete"},
        "/api/v1/domains/{domain_id}/api-token": {"put", "patch"},
        "/api/v1/domains/{domain_id}/reconnect": {"post"},
        "/api/v1/integrations/atlassian/authorize": {"post"},
        "/api/v1/integrations/atlassian/flows/{flow_id}": {"get"},
        "/api/v1/integrations/atlassian/flows/{flow_id}/connect": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    assert set(schema["components"]["schemas"]["DomainOut"]["properties"]) == FIELDS
