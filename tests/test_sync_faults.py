"""A sync under 429 storms, 5xx bursts, connection resets and truncated bodies still copies exactly
the ground truth, never retries before ``Retry-After``, and ends *deferred* instead of sleeping
through a long wait (reliability SY-05, SY-07)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from appgov.connectors.retry import RetryPolicy
from appgov.outcomes import Code, Outcome
from appgov.storage.models import Record
from support.product import connect, runtime_for, sync
from support.simulator import Simulator

FAST = RetryPolicy(max_attempts=6, base_delay=0.05, max_delay=0.2, defer_after=30)
USERS = "/rest/api/3/users/search"


def user_keys(runtime, domain_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        query = select(Record.key).where(Record.domain_id == domain_id, Record.dataset == "jira.users")
        return sorted(session.scalars(query))


def test_transient_faults_are_retried_and_the_copy_is_still_exact(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    for kind, path in (
        ("server_error", USERS),
        ("reset", "/rest/api/3/group/bulk"),
        ("truncate", "/rest/api/3/project/search"),
        ("rate_limit", "/rest/api/3/field"),
    ):
        fresh_sim.fault(kind, site="acme", path=path, times=2, params={"retry_after": 0, "status": 503})
    runtime = runtime_for(fresh_sim, tmp_path)
    domain = connect(runtime, fresh_sim)
    run = sync(runtime, domain, policy=FAST)
    truth = fresh_sim.ground_truth()["sites"]["acme"]["products"]["jira"]
    assert run.status == "success", run.errors
    assert run.retries >= 8
    assert run.counts["jira.users"] == truth["users"]["count"]
    assert run.counts["jira.groups"] == truth["groups"]["count"]
    assert run.counts["jira.projects"] == truth["projects"]["count"]
    assert run.counts["jira.fields"] == truth["fields"]["count"]


def test_retry_after_is_honoured_before_the_next_attempt(fresh_sim: Simulator, tmp_path: Path) -> None:
    runtime = runtime_for(fresh_sim, tmp_path)
    domain = connect(runtime, fresh_sim)
    fresh_sim.control("DELETE", "/log")
    fresh_sim.fault("rate_limit", site="acme", path=USERS, times=1, params={"retry_after": 1})
    assert sync(runtime, domain, policy=FAST).status == "success"
    log = [e for e in fresh_sim.control("GET", "/log").json() if e["path"].endswith(USERS)]
    limited = next(i for i, e in enumerate(log) if e["status"] == 429)
    assert log[limited + 1]["time"] - log[limited]["time"] >= 1.0


def test_a_long_retry_after_defers_the_run_and_the_next_sync_resumes_it(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime = runtime_for(fresh_sim, tmp_path)
    domain = connect(runtime, fresh_sim)
    fault = fresh_sim.fault(
        "rate_limit",
        site="acme",
        path="/rest/api/3/project/search",
        times=1,
        params={"retry_after": 3600, "retry_after_format": "date"},
    )
    deferred = sync(runtime, domain, policy=FAST)
    assert (deferred.status, deferred.reason_code) == ("deferred", "rate_limited")
    assert deferred.resume_at is not None
    assert deferred.resume_at > datetime.now(UTC) + timedelta(minutes=55)
    assert fault["fault_id"]

    resumed = sync(runtime, domain, policy=FAST)
    assert resumed.id == deferred.id
    assert (resumed.status, resumed.reason_code) == ("success", None)
    truth = fresh_sim.ground_truth()["sites"]["acme"]["products"]["jira"]
    assert len(user_keys(runtime, domain.id)) == truth["users"]["count"]


def test_a_revoked_api_token_fails_the_run_with_a_plain_reason(fresh_sim: Simulator, tmp_path: Path) -> None:
    runtime = runtime_for(fresh_sim, tmp_path)
    domain = connect(runtime, fresh_sim)
    admin = fresh_sim.state["accounts"]["site_admin"]
    org_key = {"Authorization": f"Bearer {fresh_sim.state['org']['api_key']}"}
    tokens = fresh_sim.get(f"/users/{admin['account_id']}/manage/api-tokens", headers=org_key).json()
    for token in tokens:
        revoked = fresh_sim.http.delete(
            f"{fresh_sim.url}/users/{admin['account_id']}/manage/api-tokens/{token['id']}", headers=org_key
        )
        assert revoked.status_code in (200, 204)
    run = sync(runtime, domain, policy=FAST)
    assert run.status == "failed"
    assert "rejected the credentials" in (run.message or "")
    assert run.reason_code == Code.CREDENTIALS_REJECTED


def test_a_spent_request_budget_defers_the_run_and_later_runs_finish_it_exactly(
    sim: Simulator, tmp_path: Path
) -> None:
    runtime = runtime_for(sim, tmp_path)
    object.__setattr__(runtime.settings, "sync_request_budget", 25)
    domain = connect(runtime, sim)
    statuses = []
    for _ in range(10):
        run = sync(runtime, domain, policy=FAST)
        statuses.append(run.status)
        if run.status != "deferred":
            break
        assert run.outcome == Outcome(Code.BUDGET_SPENT, {"limit": 25})
        assert run.resume_at is not None
        assert run.resume_at > datetime.now(UTC) + timedelta(minutes=55)
    assert statuses[0] == "deferred"
    assert statuses[-1] == "success"
    truth = sim.ground_truth()["sites"]["acme"]["products"]["jira"]
    assert len(user_keys(runtime, domain.id)) == truth["users"]["count"]
    assert run.counts["jira.group_members"] == truth["memberships"]["count"]
