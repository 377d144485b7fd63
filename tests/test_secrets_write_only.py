"""Secrets are write-only (reliability CS-05): with a canary API token and canary OAuth tokens
stored, an administrator requests every GET route of the app (path parameters filled with real
ids), every export and the OpenAPI document, and the canaries never come back, only the masked form.
Changing the one non-secret field of the API token (its expiry date) neither needs nor alters the
token, and a masked token sent back is refused (422), never stored. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from appgov.accounts.permissions import Role
from appgov.accounts.principal import Principal, Via
from appgov.accounts.users import create_user
from appgov.config import Settings
from appgov.connectors.atlassian.grants import store_grant
from appgov.connectors.atlassian.oauth import TokenSet
from appgov.connectors.atlassian.probe import SiteProbe
from appgov.connectors.atlassian.site_rows import atlassian_site
from appgov.integrations.domains import domain_row, put_api_token
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, Organization, User
from appgov.storage.sealed import organization_key_context
from support.clock import FakeClock
from support.in_process import ADMIN, PASSWORD, START, Browser

CANARY = "CANARY-api-token-7f3e9b2a4c"
CANARY_ACCESS, CANARY_REFRESH = "CANARY-access-5d1c", "CANARY-refresh-8a2f"
CANARY_ORG_KEY = "CANARY-org-api-key-3e6d"
MASKED = "\u2022" * 4 + CANARY[-4:]
SITE = "https://canary.atlassian.net"


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[tuple[Runtime, Browser, int]]:
    """A domain connected with the canary token and a grant holding canary tokens; an admin signed in."""
    runtime = Runtime.start(Settings(data_dir=tmp_path, database_url=database_url))
    runtime.clock = FakeClock(START)
    with runtime.sessions.begin() as session:
        admin = create_user(session, ADMIN, "Ada", PASSWORD, START, role=Role.ADMIN)
        by = Principal.of_user(admin, Via.CONSOLE)
        domain = domain_row(session, SITE, ["jira", "confluence"], by, START)
        session.flush()
        probe = SiteProbe(["jira", "confluence"], "cloud-canary", "account-canary")
        put_api_token(runtime, session, domain.id, "owner@example.com", CANARY, probe, START, None)
        domain_id = domain.id
    tokens = TokenSet(CANARY_ACCESS, CANARY_REFRESH, START + timedelta(hours=1), ["read:jira-work"])
    grant = store_grant(runtime.sessions, runtime.secrets, "client", "account-canary", None, tokens, START)
    with runtime.sessions.begin() as session:
        site = atlassian_site(session, domain_id)
        site.cloud_id, site.oauth_grant_id = "cloud-canary", grant.id
        organization = Organization(
            org_id="org-canary", name="Canary", secret=b"", last4=CANARY_ORG_KEY[-4:], created_at=START,
            created_by=ADMIN, validated_at=START,
        )  # fmt: skip
        session.add(organization)
        session.flush()
        organization.secret = runtime.secrets.encrypt(
            CANARY_ORG_KEY, organization_key_context(organization.id)
        )
    yield runtime, Browser(runtime).sign_in(ADMIN), domain_id
    runtime.engine.dispose()


def get_routes(runtime: Runtime) -> list[str]:
    browser = Browser(runtime)
    return sorted(
        context.path
        for context in iter_route_contexts(browser.client.app.routes)  # type: ignore[attr-defined]
        if isinstance(context.original_route, APIRoute) and "GET" in context.original_route.methods
    )


def filled(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def test_no_get_route_export_or_openapi_document_ever_returns_a_stored_secret(
    world: tuple[Runtime, Browser, int],
) -> None:
    runtime, admin, domain_id = world
    with runtime.sessions() as session:
        user_id = session.scalars(select(User.id).where(User.email == ADMIN)).one()
    ids = {"domain_id": str(domain_id), "user_id": str(user_id), "flow_id": "1", "token": "x",
           "platform": "atlassian", "session_id": "x", "token_id": "1", "organization_id": "1"}  # fmt: skip
    csv_too = ["/api/v1/apps/export?format=csv", "/api/v1/audit/export?format=csv"]  # json is the default
    paths = [filled(path, ids) for path in get_routes(runtime)] + csv_too
    documents = {"/api/openapi.json", "/apps/export.csv", "/api/v1/apps/export", "/audit/export.json"}
    assert documents <= set(paths)

    answers = {path: admin.client.get(path) for path in paths}

    assert {path: r.status_code for path, r in answers.items() if r.status_code >= 500} == {}
    assert sum(r.status_code == 200 for r in answers.values()) >= 30  # pages and documents, not refusals
    leaked = [
        path
        for path, r in answers.items()
        if any(c in r.text for c in (CANARY, CANARY_ACCESS, CANARY_REFRESH, CANARY_ORG_KEY))
    ]
    assert leaked == []
    shown = [path for path, r in answers.items() if MASKED in r.text]
    assert {
        "/integrations",
        f"/domains/{domain_id}",
        "/api/v1/domains",
        f"/api/v1/domains/{domain_id}",
    } <= set(shown)
    [listed] = answers["/api/v1/domains"].json()
    assert listed["api_key"] == MASKED
    assert {c["kind"]: c["masked"] for c in listed["credentials"]}["api_token"] == MASKED


def stored(runtime: Runtime, domain_id: int) -> ApiToken:
    with runtime.sessions() as session:
        return session.scalars(select(ApiToken).where(ApiToken.domain_id == domain_id)).one()


def test_changing_only_the_expiry_date_keeps_the_token_and_a_masked_token_sent_back_is_refused(
    world: tuple[Runtime, Browser, int],
) -> None:
    runtime, admin, domain_id = world
    before = stored(runtime, domain_id)
    path = f"/api/v1/domains/{domain_id}/api-token"
    csrf = {"X-CSRF-Token": admin.csrf}

    changed = admin.client.patch(path, json={"api_token_expires_on": "2027-03-01"}, headers=csrf)
    assert changed.status_code == 200, changed.text
    [token] = [c for c in changed.json()["credentials"] if c["kind"] == "api_token"]
    assert (token["masked"], token["expires_at"][:10]) == (MASKED, "2027-03-01")
    after = stored(runtime, domain_id)
    assert (after.secret, after.last4, after.validated_at) == (
        before.secret,
        before.last4,
        before.validated_at,
    )
    assert runtime.secrets.decrypt(after.secret, f"api_token:domain:{domain_id}") == CANARY

    echoed = {"api_token_expires_on": "2027-04-01", "api_token": MASKED}
    refused = [
        admin.client.patch(path, json=echoed, headers=csrf),
        admin.client.put(
            path, json={"email": "owner@example.com", "api_token": MASKED, "confirm": True}, headers=csrf
        ),
        admin.client.post(
            "/api/v1/domains",
            json={"site_url": SITE, "email": "o@example.com", "api_token": MASKED},
            headers=csrf,
        ),
    ]
    assert [r.status_code for r in refused] == [422, 422, 422]
    assert all(MASKED not in r.text and CANARY not in r.text for r in refused)
    last = stored(runtime, domain_id)
    assert (last.secret, last.expires_at) == (before.secret, after.expires_at)  # nothing changed
