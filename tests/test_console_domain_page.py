"""The Domain page and its REST twin: counts per data set against the simulator's ground truth,
unavailable data sets with Atlassian's reason, recent runs, the app change log, Sync now and Cancel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from appgov.jobs.queue import full_sync, sync_payload, sync_run_id
from appgov.storage.models import AuditEvent, Job, SyncRun
from support.cli import appgov
from support.console import ADMIN_EMAIL, Console, SignedIn, console_db
from support.console_data import Page, domain_ids, seeded_console
from support.integrations import last_audit_id, one_audit_event
from support.oauth_browser import private_simulator
from support.simulator import Simulator

# appgov data set -> (product, ground-truth data set)
CHECKED = {
    "jira.users": ("jira", "users"),
    "jira.groups": ("jira", "groups"),
    "jira.group_members": ("jira", "memberships"),
    "jira.projects": ("jira", "projects"),
    "jira.permission_grants": ("jira", "permission_grants"),
    "jira.apps": ("jira", "apps"),
    "confluence.group_members": ("confluence", "group_members"),
    "confluence.apps": ("confluence", "apps"),
}
JOB_DEADLINE = 120.0


@pytest.fixture(scope="module")
def tenant() -> Iterator[Simulator]:
    """A simulator of this module's own: one test changes its apps."""
    yield from private_simulator()


@pytest.fixture(scope="module")
def console(tenant: Simulator) -> Iterator[Console]:
    yield from seeded_console(tenant, ("acme", "acme-eng"))


@pytest.fixture(scope="module")
def admin(console: Console) -> SignedIn:
    return console.sign_in()


@pytest.fixture(scope="module")
def ids(console: Console) -> dict[str, int]:
    return domain_ids(console)


def queue_for_later(console: Console, domain_id: int) -> int:
    """A sync queued for an hour from now (as the scheduler queues a deferred run's resumption):
    no runner takes it before the test is done with it."""
    now = datetime.now(UTC)
    with console_db(console) as session:
        job = Job(
            domain_id=domain_id, status="queued", run_at=now + timedelta(hours=1), created_at=now,
            payload=sync_payload(), requested_by="scheduler", requested_via="scheduler",
        )  # fmt: skip
        session.add(job)
        session.flush()
        return job.id


def job_row(console: Console, job_id: int) -> Job:
    with console_db(console) as session:
        return session.get_one(Job, job_id)


def test_counts_per_data_set_equal_the_simulators_ground_truth(
    tenant: Simulator, admin: SignedIn, ids: dict[str, int]
) -> None:
    truth = tenant.ground_truth()["sites"]["acme"]["products"]
    page = admin.get(f"/domains/{ids['acme']}")
    assert page.status_code == 200
    shown = {row.attrs["data-dataset"]: row.cells for row in Page(page.text).rows("datasets")}
    detail = {d["name"]: d for d in admin.get(f"/api/v1/domains/{ids['acme']}").json()["datasets"]}
    for dataset, (product, name) in CHECKED.items():
        expected = truth[product][name]["count"]
        assert shown[dataset][1:3] == ["ok", f"{expected:,}"], dataset
        assert (detail[dataset]["status"], detail[dataset]["count"]) == ("ok", expected), dataset


def test_unavailable_data_sets_show_atlassians_reason(
    tenant: Simulator, admin: SignedIn, ids: dict[str, int]
) -> None:
    refused = tenant.site_get("/rest/api/3/auditing/record", site="acme-eng")
    assert refused.status_code == 403
    reason = refused.json()["errorMessages"][0]
    page = Page(admin.get(f"/domains/{ids['acme-eng']}").text)
    assert page.ids["unavailable"] == f"Jira audit records jira.audit_records: unavailable: {reason}"
    row = next(r for r in page.rows("datasets") if r.attrs["data-dataset"] == "jira.audit_records")
    assert row.cells[1:3] == ["unavailable", "-"]  # not an empty data set
    detail = admin.get(f"/api/v1/domains/{ids['acme-eng']}").json()
    [audit] = detail["unavailable"]
    assert (audit["name"], audit["reason"]) == ("jira.audit_records", reason)
    assert audit["outcome"] == {
        "code": "not_on_plan",
        "params": {"status": 403, "detail": reason},
        "text": "data set unavailable on this plan",
    }
    assert "unavailable" not in Page(admin.get(f"/domains/{ids['acme']}").text).ids


def test_the_status_is_the_one_the_integrations_page_shows(admin: SignedIn, ids: dict[str, int]) -> None:
    listed = {d["id"]: d for d in admin.get("/api/v1/domains").json()}
    for site in ("acme", "acme-eng"):
        expected = listed[ids[site]]
        page = Page(admin.get(f"/domains/{ids[site]}").text)
        assert page.ids["status"] == " ".join(filter(None, (expected["status"], expected["status_reason"])))
        detail = admin.get(f"/api/v1/domains/{ids[site]}").json()
        assert {key: detail[key] for key in expected} == expected  # the list's item, and more
    free = listed[ids["acme-eng"]]  # the Free plan has no audit log: a note on a Success
    assert (free["status"], free["outcome"]["code"]) == ("Success", "not_on_plan")
    assert free["outcome"]["params"] == {"datasets": ["jira.audit_records"]}
    assert (
        free["status_reason"]
        == free["outcome"]["text"]
        == "data set unavailable on this plan: Jira audit records"
    )


def test_recent_runs_show_their_duration_status_requests_and_retries(
    console: Console, admin: SignedIn, ids: dict[str, int]
) -> None:
    with console_db(console) as session:
        run = session.scalars(select(SyncRun).where(SyncRun.domain_id == ids["acme"])).one()
    assert run.finished_at is not None
    rows = Page(admin.get(f"/domains/{ids['acme']}").text).rows("runs")
    assert [r.attrs["data-run"] for r in rows] == [str(run.id)]
    started, duration, status, requests, retries, errors = rows[0].cells
    assert started == f"{run.started_at:%Y-%m-%d %H:%M} UTC"
    assert (status, requests, retries, errors) == ("success", f"{run.requests:,}", f"{run.retries:,}", "none")
    assert run.requests > 0
    api_runs = admin.get(f"/api/v1/domains/{ids['acme']}/runs").json()
    seconds = (run.finished_at - run.started_at).total_seconds()
    assert [(r["id"], r["status"], r["requests"]) for r in api_runs] == [(run.id, "success", run.requests)]
    assert api_runs[0]["duration_seconds"] == pytest.approx(seconds)
    assert duration.endswith("s")


def test_the_app_change_log_lists_an_app_disabled_upstream(
    console: Console, tenant: Simulator, admin: SignedIn, ids: dict[str, int]
) -> None:
    app = next(
        a
        for a in tenant.site_get("/rest/plugins/1.0/", site="acme-eng").json()["plugins"]
        if a["userInstalled"] and a["enabled"]
    )
    tenant.control("POST", f"/sites/acme-eng/apps/jira/{app['key']}/disable", {})
    synced = appgov(tenant, console.data_dir, "sync", "acme-eng")
    assert synced.returncode == 0, synced.stderr
    changes = Page(admin.get(f"/domains/{ids['acme-eng']}").text).rows("changes")
    assert [(row.cells[1], row.cells[3]) for row in changes] == [(app["name"] + app["key"], "disabled")]
    detail = admin.get(f"/api/v1/domains/{ids['acme-eng']}").json()
    assert [(c["app_key"], c["kind"]) for c in detail["app_changes"]] == [(app["key"], "disabled")]


def test_cancel_drops_a_queued_sync_and_the_page_stops_polling(
    console: Console, admin: SignedIn, ids: dict[str, int]
) -> None:
    domain_id = ids["acme-eng"]
    job_id = queue_for_later(console, domain_id)
    fragment = admin.get(f"/domains/{domain_id}/activity").text
    assert 'hx-trigger="every 3s"' in fragment
    assert Page(fragment).ids["job"].startswith("A sync is queued")
    answer = admin.post_form(f"/domains/{domain_id}/cancel")
    assert (answer.status_code, answer.headers["location"]) == (303, f"/domains/{domain_id}?notice=cancelled")
    job = job_row(console, job_id)
    assert (job.status, job.finished_at is not None) == ("cancelled", True)
    page = admin.get(answer.headers["location"]).text
    assert "hx-trigger" not in page
    assert "Cancelled" in page
    assert admin.api("POST", f"/api/v1/domains/{domain_id}/cancel").json() == {"cancelled": 0}
    with console_db(console) as session:
        audit = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert audit is not None
    assert (audit.action, audit.actor, audit.detail) == ("domain.sync_cancelled", ADMIN_EMAIL, {"jobs": 1})


def test_sync_now_while_a_sync_is_queued_hands_back_that_job(
    console: Console, admin: SignedIn, ids: dict[str, int]
) -> None:
    domain_id = ids["acme-eng"]
    job_id = queue_for_later(console, domain_id)
    answer = admin.api("POST", f"/api/v1/domains/{domain_id}/sync", json={"full": True})
    assert answer.status_code == 202
    assert (answer.json()["job"]["id"], answer.json()["queued_now"]) == (job_id, False)
    form = admin.post_form(f"/domains/{domain_id}/sync")
    assert form.headers["location"] == f"/domains/{domain_id}?notice=busy"
    with console_db(console) as session:
        assert session.scalars(
            select(Job.id).where(Job.domain_id == domain_id, Job.status == "queued")
        ).all() == [job_id]
    api_cancel = admin.api("POST", f"/api/v1/domains/{domain_id}/cancel")
    assert api_cancel.json() == {"cancelled": 1}
    assert job_row(console, job_id).status == "cancelled"


def test_sync_now_queues_a_full_sync_and_the_runner_completes_it(
    console: Console, admin: SignedIn, ids: dict[str, int]
) -> None:
    domain_id = ids["acme"]
    mark = last_audit_id(console)
    answer = admin.post_form(f"/domains/{domain_id}/sync", {"full": "true"})
    assert answer.headers["location"] == f"/domains/{domain_id}?notice=queued"
    assert one_audit_event(console, "domain.sync_requested", mark, answer).detail["full"] is True
    with console_db(console) as session:
        job = session.scalars(select(Job).where(Job.domain_id == domain_id).order_by(Job.id.desc())).first()
    assert job is not None
    assert (job.requested_by, full_sync(job)) == (ADMIN_EMAIL, True)
    deadline = time.monotonic() + JOB_DEADLINE
    while job_row(console, job.id).status in ("queued", "running"):
        assert time.monotonic() < deadline, (
            f"the job is still {job_row(console, job.id).status}:\n{console.log()}"
        )
        time.sleep(0.2)  # polling the job's state with a deadline
    done = job_row(console, job.id)
    assert done.status == "done"
    runs = admin.get(f"/api/v1/domains/{domain_id}/runs").json()
    assert (runs[0]["id"], runs[0]["status"], runs[0]["full"]) == (sync_run_id(done), "success", True)
    assert "hx-trigger" not in admin.get(f"/domains/{domain_id}/activity").text


def test_an_unknown_domain_is_a_404_page_and_a_404_answer(admin: SignedIn) -> None:
    page = admin.get("/domains/987654")
    assert page.status_code == 404
    assert "No such domain" in page.text
    assert admin.get("/api/v1/domains/987654").status_code == 404
    assert admin.get("/domains/987654/activity").status_code == 404
    assert admin.get("/domains/987654/activity", headers={"HX-Request": "true"}).status_code == 286
    assert admin.get("/api/v1/domains/987654/runs").status_code == 404
    assert admin.post_form("/domains/987654/sync").status_code == 404
    assert admin.api("POST", "/api/v1/domains/987654/sync").status_code == 404
    assert admin.api("POST", "/api/v1/domains/987654/cancel").status_code == 404


def test_a_browser_form_post_with_origin_null_counts_as_same_origin_only_by_fetch_metadata(
    console: Console, admin: SignedIn, ids: dict[str, int]
) -> None:
    """Under Referrer-Policy: no-referrer, Chromium's own form posts carry ``Origin: null``."""
    domain_id = ids["acme-eng"]
    path = f"/domains/{domain_id}/cancel"
    form = {"csrf_token": admin.csrf_token}
    for site, expected in (("cross-site", 403), ("same-site", 403), (None, 403), ("same-origin", 303)):
        headers = {"Origin": "null"} | ({"Sec-Fetch-Site": site} if site else {})
        assert admin.client.post(path, data=form, headers=headers).status_code == expected, site
