"""A domain's status, decided in one place (``integrations.status``) from reason codes: every internal
state maps onto In progress, Success or Error with a reason code that reads as plain words; a data
set the site's plan does not offer is a note on a Success; Last synced turns late on a slow sync or
an old success; the platform row stands for the domain whose last sync took longest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from appgov.config import Settings
from appgov.integrations.status import (
    DomainHealth,
    DomainStatus,
    StatusContext,
    domain_healths,
    domain_status,
    lateness,
    worst,
)
from appgov.outcomes import Code, Outcome
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, AtlassianSite, DatasetState, Domain, Job, OAuthGrant, SyncRun
from support.product import connect, runtime_for, sync
from support.simulator import Simulator

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
RESUME = datetime(2026, 3, 2, 12, 45, tzinfo=UTC)
PLAN_REASON = "Audit logs are available when at least one Jira product is on a paid plan."
NOT_ON_PLAN = Outcome(Code.NOT_ON_PLAN, {"status": 403, "detail": PLAN_REASON})
URL = "https://x/rest/api/3/myself"


def why(code: Code, **params: Any) -> Outcome:
    return Outcome(code, params)


def wait(code: Code, failure: str) -> Outcome:
    return why(code, url=URL, seconds=2700, failure=failure)


def gave_up(code: Code, failure: str) -> Outcome:
    return why(code, url=URL, attempts=6, failure=failure)


def run(status: str, **fields: Any) -> SyncRun:
    values: dict[str, Any] = {
        "domain_id": 1, "status": status, "started_at": NOW - timedelta(minutes=5), "finished_at": NOW,
        "counts": {}, "errors": {}, "requests": 0, "retries": 0, "full": False,
    }  # fmt: skip
    values.update(fields)
    return SyncRun(**values)


def grant(status: str) -> OAuthGrant:
    return OAuthGrant(client_id="c", account_id="a", scopes=[], created_at=NOW, status=status)


def job(status: str, domain_id: int = 1) -> Job:
    return Job(
        domain_id=domain_id,
        status=status,
        run_at=NOW,
        created_at=NOW,
        requested_by="ada",
        requested_via="cli",
    )


CASES: list[tuple[str, SyncRun | None, StatusContext, str, str | None]] = [
    ("never synced, nothing queued", None, StatusContext(), "In progress", "waiting for the first sync"),
    ("first sync queued", None, StatusContext(job=job("queued")), "In progress", "still processing"),
    ("first sync running", run("running", finished_at=None), StatusContext(ever_synced=False),
     "In progress", "still processing"),
    ("a later sync running", run("running", finished_at=None), StatusContext(ever_synced=True),
     "In progress", None),
    ("a retry claimed after a failed first sync", run("failed", message="x"),
     StatusContext(job=job("running")), "In progress", "still processing"),
    ("a sync claimed after an earlier success", run("failed", message="x"),
     StatusContext(ever_synced=True, job=job("running")), "In progress", None),
    ("a run whose worker died", run("running", finished_at=None), StatusContext(lease_alive=False),
     "Error", "stopped before its end"),
    ("success", run("success", counts={"jira.apps": 3}), StatusContext(), "Success", None),
    ("grant expired", run("success"), StatusContext(grant=grant("expired")), "Error", "grant expired"),
    ("consent revoked", run("success"), StatusContext(grant=grant("revoked")), "Error", "consent revoked"),
    ("grant expired during the run",
     run("failed", outcome=why(Code.GRANT_EXPIRED, detail="invalid_grant")),
     StatusContext(), "Error", "grant expired"),
    ("API token refused", run("failed", outcome=why(Code.CREDENTIALS_REJECTED, detail="Unauthorized")),
     StatusContext(), "Error", "API token invalid or expired"),
    ("credentials refused without an API token", run("failed", outcome=why(Code.CREDENTIALS_REJECTED)),
     StatusContext(has_api_token=False), "Error", "Atlassian rejected the credentials"),
    ("not a site admin", run("success", counts={"jira.apps": "unavailable"}),
     StatusContext(unavailable={"jira.apps": why(Code.NOT_SITE_ADMIN, detail="Forbidden")}),
     "Error", "account is not a site admin"),
    ("no API token for the app inventory", run("success"),
     StatusContext(unavailable={"jira.apps": why(Code.NEEDS_API_TOKEN), "jira.audit_records": NOT_ON_PLAN}),
     "Error", "no API token"),
    ("rate limited", run("deferred", finished_at=None, resume_at=RESUME,
                         outcome=wait(Code.RATE_LIMITED, "HTTP 429")),
     StatusContext(), "Error", "rate limited (retrying at 2026-03-02 12:45 UTC)"),
    ("asked to wait", run("deferred", finished_at=None, resume_at=RESUME,
                          outcome=wait(Code.ASKED_TO_WAIT, "HTTP 503")),
     StatusContext(), "Error", "Atlassian asked appgov to wait (retrying at 2026-03-02 12:45 UTC)"),
    ("request budget spent", run("deferred", finished_at=None, resume_at=RESUME,
                                 outcome=why(Code.BUDGET_SPENT, limit=100)),
     StatusContext(), "Error", "request budget spent (resuming at 2026-03-02 12:45 UTC)"),
    ("database unavailable", run("deferred", finished_at=None, resume_at=RESUME,
                                 outcome=why(Code.DATABASE_UNAVAILABLE, detail="refused")),
     StatusContext(), "Error", "the database was unavailable (resuming at 2026-03-02 12:45 UTC)"),
    ("site unreachable",
     run("failed", outcome=gave_up(Code.SITE_UNREACHABLE, "ConnectError")),
     StatusContext(), "Error", "site unreachable"),
    ("server errors",
     run("failed", outcome=gave_up(Code.SERVER_FAILING, "HTTP 503")),
     StatusContext(), "Error", "Atlassian kept failing (HTTP 503)"),
    ("data set unavailable on this plan: a note on a success",
     run("success", counts={"jira.audit_records": "unavailable"}),
     StatusContext(unavailable={"jira.audit_records": NOT_ON_PLAN}),
     "Success", "data set unavailable on this plan: Jira audit records"),
    ("a refused data set beside one not on the plan",
     run("success", counts={"jira.audit_records": "unavailable", "jira.license": "unavailable"}),
     StatusContext(unavailable={"jira.audit_records": NOT_ON_PLAN,
                                "jira.license": why(Code.DATASET_UNAVAILABLE, status=403)}),
     "Error", "data set unavailable: Jira license"),
    ("a scope the grant lacks", run("success", counts={"jira.license": "unavailable"}),
     StatusContext(unavailable={"jira.license": why(Code.SCOPE_MISSING, scope="x")}),
     "Error", "data set unavailable: Jira license"),
    ("unavailable without a reason", run("success", counts={"jira.license": "unavailable"}), StatusContext(),
     "Error", "data set unavailable: Jira license"),
    ("some data sets failed", run("partial", errors={"jira.users": "HTTP 500"},
                                  outcome=why(Code.DATASETS_FAILED, datasets=["jira.users"])),
     StatusContext(), "Error", "some data sets failed: Jira users"),
    ("cancelled on request", run("cancelled", outcome=why(Code.CANCELLED_ON_REQUEST)), StatusContext(),
     "Error", "cancelled on request"),
    ("a sentence from before reason codes",
     run("cancelled", outcome=why(Code.LEGACY, text="cancelled by ada")),
     StatusContext(), "Error", "cancelled by ada"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("last_run", "context", "label", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_every_internal_state_maps_to_its_label_and_reason(
    last_run: SyncRun | None, context: StatusContext, label: str, reason: str | None
) -> None:
    status = domain_status(last_run, context)
    assert status.label == label
    if reason is None:
        assert status.reason is None
    else:
        assert status.reason is not None
        assert reason in status.reason


def test_the_status_is_decided_from_the_reason_code_never_from_the_words() -> None:
    """A message that reads like another reason changes nothing: the code decides."""
    misleading = run(
        "failed",
        message="Atlassian rejected the credentials (HTTP 429: rate limited; request budget spent)",
        outcome=why(Code.SITE_UNREACHABLE, url=URL, attempts=6, failure="ConnectError"),
    )
    assert str(domain_status(misleading)) == "Error: site unreachable; the next sync tries again"
    words_only = StatusContext(
        unavailable={"jira.audit_records": why(Code.DATASET_UNAVAILABLE, detail=PLAN_REASON)}
    )
    assert domain_status(run("success"), words_only).label == "Error"


def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url="sqlite://", slow_sync_minutes=30, stale_sync_hours=24)


def test_last_synced_is_late_after_a_slow_sync_or_an_old_success(tmp_path: Path) -> None:
    config = settings(tmp_path)
    assert lateness(29 * 60, NOW - timedelta(hours=1), config, NOW) is None
    slow = lateness(31 * 60, NOW - timedelta(hours=1), config, NOW)
    assert slow is not None
    assert "took 31 min" in slow
    old = lateness(60, NOW - timedelta(hours=25), config, NOW)
    assert old is not None
    assert "no successful sync for 25 h" in old
    assert lateness(None, None, config, NOW) is None


def health(name: str, seconds: float | None) -> DomainHealth:
    domain = Domain(
        name=name, site_url=f"https://{name}.atlassian.net", products=[], created_at=NOW, created_by="x"
    )
    return DomainHealth(domain, DomainStatus("Success"), NOW, seconds, False, None, None, None)


def test_the_platform_row_stands_for_the_domain_whose_last_sync_took_longest() -> None:
    healths = [health("quick", 60), health("never", None), health("slow", 3600), health("mid", 600)]
    chosen = worst(healths)
    assert chosen is not None
    assert chosen.domain.name == "slow"
    assert worst([]) is None


def test_health_is_read_from_storage(database_url: str, tmp_path: Path) -> None:
    runtime = Runtime.start(Settings(data_dir=tmp_path, database_url=database_url, slow_sync_minutes=30))
    with runtime.sessions.begin() as session:
        expired = OAuthGrant(
            client_id="c", account_id="a", scopes=[], created_at=NOW, consented_at=NOW, status="expired"
        )
        session.add(expired)
        session.flush()
        new, slow, old = (
            Domain(
                name=n,
                site_url=f"https://{n}.atlassian.net",
                products=["jira"],
                created_at=NOW,
                created_by="x",
                created_via="cli",
            )
            for n in ("new", "slow", "old")
        )
        session.add_all([new, slow, old])
        session.flush()
        session.add(AtlassianSite(domain_id=old.id, oauth_grant_id=expired.id))
        session.add(job("queued", new.id))
        session.add(run("success", domain_id=slow.id, started_at=NOW - timedelta(minutes=45)))
        session.add(run("success", domain_id=old.id, finished_at=NOW - timedelta(days=2)))
        session.add(
            DatasetState(
                domain_id=slow.id,
                dataset="jira.audit_records",
                status="unavailable",
                reason=PLAN_REASON,
                outcome=NOT_ON_PLAN,
            )
        )
        token = ApiToken(
            domain_id=slow.id,
            owner_email="ada@example.com",
            secret=b"x",
            last4="9f3a",
            created_at=NOW,
            validated_at=NOW,
        )
        session.add(token)
    with runtime.sessions() as session:
        healths = {h.domain.name: h for h in domain_healths(session, runtime.settings, NOW)}
    assert str(healths["new"].status) == "In progress: still processing: the first sync is under way"
    assert healths["new"].last_synced_at is None
    assert not healths["new"].late
    assert str(healths["slow"].status) == "Success: data set unavailable on this plan: Jira audit records"
    assert healths["slow"].late
    assert healths["slow"].last_sync_seconds == 45 * 60
    assert healths["slow"].api_key == "\u2022\u2022\u2022\u20229f3a"
    assert healths["slow"].api_key_owner == "ada@example.com"
    assert healths["old"].status.reason is not None
    assert "grant expired" in healths["old"].status.reason
    assert healths["old"].late
    assert "no successful sync for 48 h" in (healths["old"].late_reason or "")


def test_a_free_plan_and_a_revoked_api_token_read_as_their_reasons(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Against the simulator: acme-eng's Jira is on the Free plan (no audit log): its runs succeed, so
    the domain is a Success with a note (it used to show Error forever while its ready notification
    went out); an API token revoked at the organization makes the next sync fail on 401."""
    runtime = runtime_for(fresh_sim, tmp_path)
    free = connect(runtime, fresh_sim, "acme-eng")
    assert sync(runtime, free).status == "success"
    with runtime.sessions() as session:
        audit = session.get_one(DatasetState, (free.id, "jira.audit_records"))
    assert (audit.status, audit.reason_code) == ("unavailable", "not_on_plan")
    statuses = _statuses(runtime)
    assert statuses["acme-eng"] == "Success: data set unavailable on this plan: Jira audit records"

    admin = fresh_sim.state["accounts"]["site_admin"]
    tokens_path = f"{fresh_sim.url}/users/{admin['account_id']}/manage/api-tokens"
    key = {"Authorization": f"Bearer {fresh_sim.state['org']['api_key']}"}
    for token in fresh_sim.http.get(tokens_path, headers=key).json():
        assert fresh_sim.http.delete(f"{tokens_path}/{token['id']}", headers=key).status_code == 204
    sync(runtime, free)
    assert _statuses(runtime)["acme-eng"] == "Error: API token invalid or expired: edit the API key"


def _statuses(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions() as session:
        return {
            h.domain.name: str(h.status) for h in domain_healths(session, runtime.settings, datetime.now(UTC))
        }


def test_the_healths_of_many_domains_take_as_many_queries_as_one(database_url: str, tmp_path: Path) -> None:
    """The Integrations page polls every 5 seconds: its queries do not grow with the domains."""
    runtime = Runtime.start(Settings(data_dir=tmp_path, database_url=database_url))
    with runtime.sessions.begin() as session:
        for n in range(5):
            domain = Domain(
                name=f"d{n}", site_url=f"https://d{n}.atlassian.net", products=["jira"], created_at=NOW,
                created_by="x", created_via="cli",
            )  # fmt: skip
            session.add(domain)
            session.flush()
            session.add(run("success", domain_id=domain.id))
            session.add(job("queued", domain.id))

    def queries(domains: int) -> int:
        statements: list[str] = []

        def listen(*args: Any) -> None:
            statements.append(args[2])  # the statement

        event.listen(runtime.engine, "before_cursor_execute", listen)
        try:
            with runtime.sessions() as session:
                healths = domain_healths(session, runtime.settings, NOW)
        finally:
            event.remove(runtime.engine, "before_cursor_execute", listen)
        assert len(healths) == domains
        return len(statements)

    five = queries(5)
    with runtime.sessions.begin() as session:
        for domain in session.scalars(select(Domain).where(Domain.name != "d0")):
            session.delete(domain)
    assert queries(1) == five
