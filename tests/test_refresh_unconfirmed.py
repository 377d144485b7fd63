"""A token refresh is never replayed after an ambiguous failure: when the token endpoint rotates the
refresh token and then loses its answer (a 5xx or a dropped connection after processing), the run
sends that refresh token no second time, however many data sets need a token; it is deferred a
couple of minutes with the grant as it was, and the resumed run, inside Atlassian's reuse leeway,
gets a new pair and finishes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from appgov.integrations.grants import RECHECK_AFTER
from appgov.storage.models import Domain, OAuthGrant
from support.grants import consent, oauth_runtime
from support.product import sync
from support.simulator import Simulator


def refreshes(sim: Simulator) -> int:
    return int(sim.control("GET", "/counters").json()["refresh_requests"])


@pytest.mark.parametrize(
    ("kind", "params"),
    [("server_error", {"status": 503, "processed": True}), ("reset", {"processed": True})],
)
def test_a_refresh_whose_answer_is_lost_is_not_replayed_and_the_resumed_run_recovers(
    fresh_sim: Simulator, tmp_path: Path, kind: str, params: dict[str, Any]
) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path)
    grant_id = consent(fresh_sim, runtime, ["acme"])
    with runtime.sessions.begin() as session:
        session.execute(update(OAuthGrant).values(access_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        stored = session.get_one(OAuthGrant, grant_id).refresh_token
        domain = session.query(Domain).one()
    fresh_sim.control("DELETE", "/log")
    fresh_sim.fault(kind, site="auth", path="/oauth/token", times=1, params=params)

    deferred = sync(runtime, domain)
    assert deferred.status == "deferred"
    assert "did not confirm the refresh" in (deferred.message or "")
    assert deferred.resume_at is not None
    assert deferred.resume_at <= datetime.now(UTC) + RECHECK_AFTER
    assert refreshes(fresh_sim) == 1  # every data set needed a token; one refresh went out
    with runtime.sessions() as session:
        grant = session.get_one(OAuthGrant, grant_id)
    assert (grant.status, grant.refresh_token, grant.refresh_lock_owner) == ("active", stored, None)

    resumed = sync(runtime, domain)
    assert resumed.id == deferred.id
    assert resumed.status == "success", resumed.errors
    assert refreshes(fresh_sim) == 2
    with runtime.sessions() as session:
        assert session.get_one(OAuthGrant, grant_id).refresh_token != stored
