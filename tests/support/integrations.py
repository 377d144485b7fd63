"""Drive the Integrations page's lifecycle over real HTTP, as an administrator's browser does: Add on
the console, sign-in and consent on the simulator's pages, the callback, the site picker, Connect;
and read what the console stored, from its own database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, select, update

from appgov.config import Settings
from appgov.demo.forms import form_posting_to
from appgov.jobs.queue import ACTIVE
from appgov.runtime import configured_keyring
from appgov.security.secrets import SecretBox
from appgov.storage.models import AuditEvent, Domain, Job, OAuthFlow, SyncRun
from support.console import ADMIN_EMAIL, Console, SignedIn, console_db, console_simulator, free_port
from support.oauth_browser import Browser
from support.simulator import Simulator

ADD_PATH = "/integrations/atlassian/add"
CONNECT_PATH = "/integrations/atlassian/connect"


def start_add(signed: SignedIn) -> str:
    """Add next to Atlassian, as the page's form posts it: the authorization URL it redirects to."""
    page = signed.get("/integrations")
    form = form_posting_to(page.text, ADD_PATH)
    response = signed.client.post(ADD_PATH, data=form.fields)
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"]


def consent(
    sim: Simulator,
    authorize_url: str,
    who: str = "site_admin",
    site: str | None = "acme",
    decision: str = "allow",
) -> str:
    """Atlassian's side in a fresh browser: sign in, then allow (for ``site``) or deny. Returns the
    console path (with its query) the simulator redirects the browser back to."""
    browser = Browser(sim)
    try:
        consent_page = browser.sign_in(browser.http.get(authorize_url), who)
        answer = browser.decide(consent_page, decision, site)
    finally:
        browser.close()
    assert answer.status_code == 302, answer.text[:500]
    return console_path(answer.headers["location"])


def console_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def consent_to_picker(signed: SignedIn, sim: Simulator, site: str = "acme", who: str = "site_admin") -> str:
    """Add, consent, callback: the site picker's path (``/integrations/atlassian/connect?flow=N``)."""
    back = signed.get(consent(sim, start_add(signed), who, site))
    assert back.status_code == 303, back.text[:500]
    return back.headers["location"]


def submit_connect(
    signed: SignedIn, picker_path: str, sim: Simulator, site_name: str, who: str, **values: str
) -> httpx.Response:
    """Pick ``site_name`` and Connect with ``who``'s email and API token (``values`` override them)."""
    page = signed.get(picker_path)
    assert page.status_code == 200, page.text[:500]
    form = form_posting_to(page.text, CONNECT_PATH)
    account = sim.state["accounts"][who]
    data = {
        **form.fields,
        "site": sim.site(site_name)["cloud_id"],
        "email": account["email"],
        "api_token": account["api_token"],
        **values,
    }
    return signed.client.post(CONNECT_PATH, data=data)


def add_site(signed: SignedIn, sim: Simulator, site: str = "acme", who: str = "site_admin") -> httpx.Response:
    """The whole Add flow for one site; the answer to Connect."""
    return submit_connect(signed, consent_to_picker(signed, sim, site, who), sim, site, who)


def added(console: Console, signed: SignedIn, site: str = "acme") -> Domain:
    """The domain the whole Add flow connected for ``site``."""
    assert add_site(signed, console.sim, site).status_code == 303
    domain = domain_named(console, site)
    assert domain is not None
    return domain


def console_secrets(console: Console) -> SecretBox:
    configured = configured_keyring(Settings.from_env(console.env))
    assert configured is not None, "the console made its key when it started"
    return configured[0]


def domain_named(console: Console, name: str) -> Domain | None:
    with console_db(console) as session:
        return session.scalar(select(Domain).where(Domain.name == name))


def count(console: Console, model: Any, **where: Any) -> int:
    with console_db(console) as session:
        query = select(func.count()).select_from(model).filter_by(**where)
        return int(session.scalar(query) or 0)


def token_requests(sim: Simulator) -> int:
    """How many times anyone asked the simulated authorization server for a token."""
    log = sim.control("GET", "/log?limit=100000").json()
    return sum(1 for entry in log if entry["method"] == "POST" and entry["path"] == "/oauth/token")


def wait_idle(console: Console, domain_id: int, timeout: float = 240.0) -> SyncRun:
    """The domain's last run, once no job of it is queued or running (the console's background runner
    takes what Add, Reconnect or Edit queued)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with console_db(console) as session:
            busy = session.scalar(select(Job.id).where(Job.domain_id == domain_id, Job.status.in_(ACTIVE)))
            run = session.scalar(
                select(SyncRun).where(SyncRun.domain_id == domain_id).order_by(SyncRun.id.desc()).limit(1)
            )
        if busy is None and run is not None and run.status != "running":
            return run
        time.sleep(0.2)  # polling for the runner to finish, with a deadline
    raise AssertionError(f"domain {domain_id} still has work after {timeout:.0f} s:\n{console.log()[-3000:]}")


def running_console(hostile: bool = False, **env: str) -> Iterator[Console]:
    """``appgov serve`` against a simulator of its own whose OAuth client calls it back; stopped after."""
    port = free_port()
    sim = console_simulator(port, hostile=hostile)
    running = Console(sim, port, **env)
    yield running
    running.stop()
    sim.stop()


def signed_in(console: Console) -> Iterator[SignedIn]:
    """A signed-in client for one test; afterwards every domain and simulated grant is gone."""
    yield console.sign_in()
    reset(console, console.sim)


def reset(console: Console, sim: Simulator) -> None:
    """Between tests: every domain deleted (through the API), every simulated grant revoked."""
    signed = console.sign_in()
    for domain in signed.api("GET", "/api/v1/domains").json():
        assert signed.api("DELETE", f"/api/v1/domains/{domain['id']}?confirm=true").status_code == 204
    for grant in sim.control("GET", "/grants").json():
        if not grant["revoked"]:
            sim.control("DELETE", f"/grants/{grant['grant_id']}")
    sim.control("DELETE", "/faults")


def last_audit_id(console: Console) -> int:
    with console_db(console) as session:
        return int(session.scalar(select(func.max(AuditEvent.id))) or 0)


def audit_events(console: Console, action: str, after: int) -> list[AuditEvent]:
    """The audit trail's ``action`` events written after event ``after``."""
    with console_db(console) as session:
        query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.id > after)
        return list(session.scalars(query.order_by(AuditEvent.id)))


def one_audit_event(
    console: Console, action: str, after: int, answer: httpx.Response, *secrets: str
) -> AuditEvent:
    """The one ``action`` event written after event ``after``: by the administrator, from loopback, at
    a UTC time, with the request id of ``answer``, and none of ``secrets`` anywhere in it."""
    (event,) = audit_events(console, action, after)
    assert (event.actor, event.outcome, event.address) == (ADMIN_EMAIL, "success", "127.0.0.1")
    assert event.request_id == answer.headers["x-request-id"]
    assert event.at.utcoffset() == timedelta(0)
    stored = " ".join(str(getattr(event, column.key)) for column in AuditEvent.__table__.columns)
    assert not any(secret in stored for secret in secrets)
    return event


def expire_flows(console: Console) -> None:
    """Ten minutes pass for every consent in flight (their expiry moved to their start)."""
    with console_db(console) as session:
        session.execute(update(OAuthFlow).values(expires_at=OAuthFlow.created_at))
