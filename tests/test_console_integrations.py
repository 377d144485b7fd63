"""The Integrations page and a domain's lifecycle, end to end over real HTTP: ``appgov serve`` against
the simulator, whose sign-in and consent pages are driven like a browser. Add (consent, callback,
site picker, API key, Connect), several domains, Reconnect after the grant expires, Edit API key,
Delete; bad input gets a clear message and changes nothing; upstream text is rendered escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from appgov.storage.models import (
    ApiToken,
    App,
    AtlassianSite,
    DatasetState,
    Domain,
    Job,
    OAuthGrant,
    Record,
    SyncRun,
)
from appgov.web.templating import ago
from support.console import ADMIN_EMAIL, Console, SignedIn, console_db
from support.integrations import (
    add_site,
    added,
    audit_events,
    consent,
    consent_to_picker,
    count,
    domain_named,
    last_audit_id,
    running_console,
    signed_in,
    start_add,
    submit_connect,
    token_requests,
    wait_idle,
)


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    yield from running_console(APPGOV_SLOW_SYNC_MINUTES="0.0001")  # any sync is slow: Last synced turns red


@pytest.fixture
def signed(console: Console) -> Iterator[SignedIn]:
    yield from signed_in(console)


@pytest.fixture
def mark(console: Console) -> int:
    """The audit trail's last event before the test: what the test adds comes after it."""
    return last_audit_id(console)


def main_of(html: str) -> str:
    return html[html.index("<main>") :]


def test_add_connects_the_picked_site_with_its_api_key_and_starts_its_first_sync(
    console: Console, signed: SignedIn, mark: int
) -> None:
    sim = console.sim
    picker = consent_to_picker(signed, sim, "acme")
    assert re.fullmatch(r"/integrations/atlassian/connect\?flow=\d+", picker)
    page = signed.get(picker)
    admin = sim.state["accounts"]["site_admin"]
    assert f'value="{admin["email"]}"' in page.text  # the key owner's email, from the consenting account
    assert 'href="https://id.atlassian.com/manage-profile/security/api-tokens"' in page.text

    done = submit_connect(signed, picker, sim, "acme", "site_admin")
    assert done.status_code == 303
    assert re.fullmatch(r"/integrations\?event=\d+", done.headers["location"])
    listing = main_of(signed.get(done.headers["location"]).text)
    assert "acme is connected" in listing
    assert "still processing" in listing

    domain = domain_named(console, "acme")
    assert domain is not None
    assert (domain.created_by, domain.created_via) == (ADMIN_EMAIL, "console")
    assert domain.created_by_user_id is not None  # the user, as the console knows them
    with console_db(console) as session:
        site = session.get_one(AtlassianSite, domain.id)
        token = session.scalar(select(ApiToken).where(ApiToken.domain_id == domain.id))
        grant = session.get(OAuthGrant, site.oauth_grant_id)
        jobs = session.scalars(select(Job).where(Job.domain_id == domain.id)).all()
    assert site.cloud_id == sim.site("acme")["cloud_id"]
    assert token is not None
    assert admin["api_token"].encode() not in token.secret
    assert grant is not None
    assert grant.status == "active"
    assert len(jobs) == 1  # ingestion started at once
    assert (jobs[0].requested_by_user_id, jobs[0].requested_via) == (domain.created_by_user_id, "console")
    added = audit_events(console, "domain.added", mark)
    assert [(a.actor, a.actor_via, a.target) for a in added] == [(ADMIN_EMAIL, "console", domain.site_url)]

    assert f'href="/domains/{domain.id}"' in listing
    assert "\u2022\u2022\u2022\u2022" + admin["api_token"][-4:] in listing
    assert admin["api_token"] not in listing
    assert f"by {ADMIN_EMAIL}" in listing
    assert wait_idle(console, domain.id).status == "success"
    assert "Success" in main_of(signed.get("/integrations").text)


def test_while_the_first_sync_runs_the_row_polls_then_shows_success_with_a_late_last_synced(
    console: Console, signed: SignedIn
) -> None:
    sim = console.sim
    sim.fault("latency", site="acme", params={"ms": 300})  # a first sync that takes a while
    assert add_site(signed, sim, "acme").status_code == 303
    page = signed.get("/integrations").text
    assert "In progress" in page
    assert "still processing" in page
    assert 'hx-get="/integrations/atlassian/domains" hx-trigger="every 5s"' in page
    fragment = signed.get("/integrations/atlassian/domains")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'hx-trigger="every 5s"' in fragment.text

    sim.control("DELETE", "/faults")
    domain = domain_named(console, "acme")
    assert domain is not None
    wait_idle(console, domain.id)
    fragment = signed.get("/integrations/atlassian/domains").text
    assert "hx-trigger" not in fragment  # polling stops once nothing is in progress
    assert '<span class="status success">Success</span>' in fragment
    assert 'class="synced late"' in fragment  # the sync took longer than the (tiny) threshold
    assert "N/A" not in fragment
    assert '<div class="muted age">just now</div>' in fragment  # its age beneath the time
    assert "slowest domain: acme" in main_of(signed.get("/integrations").text)


def test_the_site_picker_offers_only_sites_not_yet_connected_and_several_domains_are_listed(
    console: Console, signed: SignedIn
) -> None:
    sim = console.sim
    assert add_site(signed, sim, "acme").status_code == 303
    picker = signed.get(consent_to_picker(signed, sim, "acme-eng")).text
    # the account's one grant now reaches acme and acme-eng; acme is already connected
    assert sim.site("acme-eng")["cloud_id"] in picker
    assert sim.site("acme")["cloud_id"] not in picker
    assert add_site(signed, sim, "acme-wiki").status_code == 303
    assert add_site(signed, sim, "acme-eng").status_code == 303

    listing = main_of(signed.get("/integrations").text)
    assert "3 domains" in listing
    with console_db(console) as session:
        domains = session.scalars(select(Domain).order_by(Domain.name)).all()
        grants = session.scalars(select(OAuthGrant)).all()
    assert [d.name for d in domains] == ["acme", "acme-eng", "acme-wiki"]
    assert len(grants) == 1  # one grant per Atlassian account, covering every domain
    for domain in domains:
        assert f'href="/domains/{domain.id}"' in listing
        assert f'action="/domains/{domain.id}/reconnect"' in listing
    # the domains of one consent say so, and Reconnect says it renews them all
    assert ">one consent with acme-eng, acme-wiki</div>" in listing
    assert ">one consent with acme, acme-wiki</div>" in listing
    assert ">one consent with acme, acme-eng</div>" in listing
    assert listing.count(">Reconnect all 3</button>") == 3
    shared = {d["name"]: d["consent_shared_with"] for d in signed.api("GET", "/api/v1/domains").json()}
    assert shared == {
        "acme": ["acme-eng", "acme-wiki"],
        "acme-eng": ["acme", "acme-wiki"],
        "acme-wiki": ["acme", "acme-eng"],
    }


def test_reconnect_after_the_simulator_expires_the_grant_binds_a_fresh_grant_and_queues_a_sync(
    console: Console, signed: SignedIn, mark: int
) -> None:
    sim = console.sim
    domain = added(console, signed)
    wait_idle(console, domain.id)
    sim.control("POST", "/tokens/refresh/expire", {})
    sim.control("POST", "/tokens/access/expire", {})
    console.run_cli("sync", "acme")  # the next sync finds the grant gone
    assert "grant expired: reconnect to consent again" in signed.get("/integrations").text

    answer = signed.post_form(f"/domains/{domain.id}/reconnect")
    assert answer.status_code == 303
    back = signed.get(consent(sim, answer.headers["location"], site="acme"))
    assert back.status_code == 303
    assert re.fullmatch(r"/integrations\?event=\d+", back.headers["location"])
    assert "acme is reconnected" in signed.get(back.headers["location"]).text
    with console_db(console) as session:
        grant = session.get_one(OAuthGrant, session.get_one(AtlassianSite, domain.id).oauth_grant_id)
        jobs = session.scalars(select(Job).where(Job.domain_id == domain.id).order_by(Job.id)).all()
    assert grant.status == "active"
    assert [e.actor for e in audit_events(console, "domain.reconnected", mark)] == [ADMIN_EMAIL]
    assert jobs[-1].requested_by == ADMIN_EMAIL
    assert jobs[-1].id > jobs[0].id
    assert wait_idle(console, domain.id).status == "success"
    assert "grant expired" not in signed.get("/integrations").text


def test_one_reconnect_renews_the_consent_of_every_domain_that_shares_it_and_syncs_them_all(
    console: Console, signed: SignedIn
) -> None:
    sim = console.sim
    first, second = added(console, signed, "acme"), added(console, signed, "acme-eng")
    for domain in (first, second):
        wait_idle(console, domain.id)
    sim.control("POST", "/tokens/refresh/expire", {})
    sim.control("POST", "/tokens/access/expire", {})

    answer = signed.post_form(f"/domains/{first.id}/reconnect")
    back = signed.get(consent(sim, answer.headers["location"], site="acme"))
    assert back.status_code == 303
    for domain in (first, second):  # both read with the renewed grant, synced again at once
        assert wait_idle(console, domain.id).status == "success"
    with console_db(console) as session:
        queued = session.scalars(select(Job.domain_id).where(Job.requested_via == "console")).all()
    assert {first.id, second.id} <= set(queued)


def test_edit_api_key_asks_for_confirmation_and_keeps_the_old_key_unless_the_new_one_works(
    console: Console, signed: SignedIn, mark: int
) -> None:
    sim = console.sim
    domain = added(console, signed)
    page = signed.get(f"/domains/{domain.id}/api-key")
    assert page.status_code == 200
    assert (
        f"This replaces the API key of the connection to {domain.site_url}. Override the connection?"
        in page.text
    )

    def stored() -> ApiToken:
        with console_db(console) as session:
            return session.scalars(select(ApiToken).where(ApiToken.domain_id == domain.id)).one()

    before = stored()
    admin, ordinary = sim.state["accounts"]["site_admin"], sim.state["accounts"]["ordinary"]
    unconfirmed = signed.post_form(
        f"/domains/{domain.id}/api-key", {"email": admin["email"], "api_token": admin["api_token"]}
    )
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm" in unconfirmed.text
    refused = signed.post_form(
        f"/domains/{domain.id}/api-key",
        {"email": ordinary["email"], "api_token": ordinary["api_token"], "confirm": "yes"},
    )
    assert refused.status_code == 400
    assert "is not a site admin" in refused.text
    assert "The current API key stays in place." in refused.text
    assert ordinary["api_token"] not in refused.text
    assert stored().secret == before.secret

    replaced = signed.post_form(
        f"/domains/{domain.id}/api-key",
        {"email": admin["email"], "api_token": admin["api_token"], "confirm": "yes"},
    )
    assert replaced.status_code == 303
    assert "The API key of acme was replaced" in signed.get(replaced.headers["location"]).text
    after = stored()
    assert after.secret != before.secret
    assert after.validated_at > before.validated_at
    assert [e.actor for e in audit_events(console, "domain.api_key_replaced", mark)] == [ADMIN_EMAIL]


def test_delete_asks_for_the_name_then_removes_secrets_jobs_and_data_and_the_audit_trail_keeps_it(
    console: Console, signed: SignedIn, mark: int
) -> None:
    sim = console.sim
    domain = added(console, signed)
    wait_idle(console, domain.id)
    assert count(console, Record, domain_id=domain.id) > 0
    sim.fault("latency", site="acme", params={"ms": 300})
    admin = sim.state["accounts"]["site_admin"]
    requeue = {"email": admin["email"], "api_token": admin["api_token"], "confirm": "yes"}
    assert signed.post_form(f"/domains/{domain.id}/api-key", requeue).status_code == 303  # a sync is queued

    confirm_page = signed.get(f"/domains/{domain.id}/delete")
    assert 'Type <span class="mono">acme</span> to confirm' in confirm_page.text
    wrong = signed.post_form(f"/domains/{domain.id}/delete", {"confirm_name": "acme-eng"})
    assert wrong.status_code == 400
    assert domain_named(console, "acme") is not None

    deleted = signed.post_form(f"/domains/{domain.id}/delete", {"confirm_name": "acme"})
    assert deleted.status_code == 303
    listing = main_of(signed.get(deleted.headers["location"]).text)
    assert "acme was deleted" in listing
    assert f'href="/domains/{domain.id}"' not in listing
    assert "0 domains" in listing
    for model in (ApiToken, Job, SyncRun, DatasetState, Record, App):
        assert count(console, model, domain_id=domain.id) == 0, model.__name__
    assert count(console, OAuthGrant) == 0  # no other domain used the grant
    (event,) = audit_events(console, "domain.deleted", mark)
    assert (event.actor, event.target) == (ADMIN_EMAIL, domain.site_url)
    assert event.detail["jobs_cancelled"] >= 1
    assert event.detail["grant_deleted"] is True
    assert signed.get(f"/domains/{domain.id}/delete").status_code == 404


def nothing_connected(console: Console, mark: int) -> None:
    assert count(console, Domain) == 0
    assert count(console, ApiToken) == 0
    assert count(console, Job) == 0
    assert last_audit_id(console) == mark


@pytest.mark.parametrize(
    ("who", "token", "message"),
    [
        ("site_admin", "not a token", "The API token is empty or malformed"),
        ("expired_token_admin", None, "Atlassian refused the API token"),
        ("ordinary", None, "{email} is not a site admin"),  # an email starting it is never capitalised
    ],
    ids=["malformed", "expired", "not-a-site-admin"],
)
def test_a_bad_api_key_gets_a_clear_message_and_changes_nothing(
    console: Console, signed: SignedIn, mark: int, who: str, token: str | None, message: str
) -> None:
    sim = console.sim
    picker = consent_to_picker(signed, sim, "acme")
    account = sim.state["accounts"][who]
    answer = submit_connect(
        signed, picker, sim, "acme", who, api_token=token if token is not None else account["api_token"]
    )
    assert answer.status_code == 400
    assert message.format(email=account["email"]) in answer.text
    assert account["api_token"] not in answer.text
    assert f'value="{account["email"]}"' in answer.text  # the form comes back as it was filled
    nothing_connected(console, mark)


def test_a_site_the_consent_did_not_name_is_refused(console: Console, signed: SignedIn, mark: int) -> None:
    sim = console.sim
    picker = consent_to_picker(signed, sim, "acme")
    answer = submit_connect(signed, picker, sim, "acme", "site_admin", site="0f7e-not-a-site-of-the-consent")
    assert answer.status_code == 400
    assert "Pick one of the sites the consent covers" in answer.text
    nothing_connected(console, mark)


@pytest.mark.parametrize(
    ("site_url", "message"),
    [
        ("http://127.0.0.1:1/", "not an Atlassian Cloud site"),
        ("https://x.atlassian.net.evil.com", "not an Atlassian Cloud site"),
    ],
)
def test_a_site_url_that_is_not_atlassian_is_refused(
    console: Console, signed: SignedIn, mark: int, site_url: str, message: str
) -> None:
    admin = console.sim.state["accounts"]["site_admin"]
    body = {"site_url": site_url, "email": admin["email"], "api_token": admin["api_token"]}
    answer = signed.api("POST", "/api/v1/domains", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["detail"]
    nothing_connected(console, mark)


def test_a_denied_consent_says_so_and_asks_atlassian_for_nothing(
    console: Console, signed: SignedIn, mark: int
) -> None:
    sim = console.sim
    sim.control("DELETE", "/log")
    back = consent(sim, start_add(signed), decision="deny", site=None)
    answer = signed.get(back)
    assert answer.status_code == 400
    assert "The consent was denied at Atlassian: nothing was connected" in answer.text
    assert token_requests(sim) == 0
    nothing_connected(console, mark)


def test_forged_and_replayed_callbacks_get_a_clear_message_and_change_nothing(
    console: Console, signed: SignedIn, mark: int
) -> None:
    sim = console.sim
    callback = consent(sim, start_add(signed), site="acme")
    forged = signed.get(re.sub(r"state=[^&]+", "state=forged-state", callback))
    assert forged.status_code == 400
    assert "does not match any consent started here" in forged.text
    assert signed.get(callback).status_code == 303  # the genuine answer still works, once
    replayed = signed.get(callback)
    assert replayed.status_code == 400
    assert "already used" in replayed.text
    nothing_connected(console, mark)


def test_a_signed_out_callback_is_refused_without_a_detour_through_sign_in(
    console: Console, signed: SignedIn
) -> None:
    callback = consent(console.sim, start_add(signed), site="acme")
    answer = console.client().get(callback)
    assert answer.status_code == 401
    assert "location" not in answer.headers
    assert "not signed in to appgov" in answer.text
    code = dict(p.split("=", 1) for p in callback.split("?", 1)[1].split("&"))["code"]
    assert code not in answer.text


@pytest.fixture(scope="module")
def hostile_console() -> Iterator[Console]:
    yield from running_console(hostile=True)


def test_upstream_and_reflected_text_is_rendered_escaped(hostile_console: Console) -> None:
    """WS-06: with a hostile tenant's app and vendor names stored, and a crafted email sent back in an
    error message, no page of the lifecycle carries markup or a script link from them."""
    sim = hostile_console.sim
    signed = hostile_console.sign_in()
    domain = added(hostile_console, signed)
    wait_idle(hostile_console, domain.id)
    with console_db(hostile_console) as session:
        texts = [f"{name} {vendor}" for name, vendor in session.execute(select(App.name, App.vendor))]
    assert any("\u202e" in text or "{{7*7}}" in text for text in texts)  # the tenant's text is hostile
    crafted = '"><script>alert(1)</script>@evil.example'
    picker = consent_to_picker(signed, sim, "acme-eng")
    reflected = submit_connect(signed, picker, sim, "acme-eng", "ordinary", email=crafted)
    assert reflected.status_code == 400
    pages = [
        signed.get("/integrations").text,
        signed.get("/integrations/atlassian/domains").text,
        signed.get(f"/domains/{domain.id}/api-key").text,
        signed.get(f"/domains/{domain.id}/delete").text,
        reflected.text,
    ]
    for html in pages:
        assert "<script>alert" not in html
        assert "onerror=" not in html
        assert not re.search(r"""href\s*=\s*["']?\s*(javascript|data):""", html, re.IGNORECASE)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@evil.example" in reflected.text


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0, "just now"), (59, "just now"), (60, "1 min ago"), (3_599, "59 min ago"), (7_200, "2 h ago"),
     (86_400, "1 day ago"), (5 * 86_400 + 7, "5 days ago"), (-30, "just now")],
)  # fmt: skip
def test_last_synced_says_its_age_in_the_largest_whole_unit(seconds: int, said: str) -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert ago(now - timedelta(seconds=seconds), now) == said
