"""Confluence audit records carry no id and two can share a millisecond: appgov keys them by time
and a digest of the record, so both are kept, across incremental passes and from older databases."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select

from appgov.connectors.atlassian.datasets import CONFLUENCE_AUDIT_RECORDS
from appgov.connectors.atlassian.streams import confluence_audit_key
from appgov.storage.db import make_engine, migrate
from appgov.storage.models import Record
from appgov_sim.tenant.generate import natural_digest
from support.product import connect, runtime_for, sync
from support.simulator import Simulator

WIKI_SITE = "acme-wiki"  # Confluence only


def live_keys(runtime_sessions, domain_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with runtime_sessions() as session:
        query = select(Record.key).where(
            Record.domain_id == domain_id,
            Record.dataset == CONFLUENCE_AUDIT_RECORDS,
            Record.removed_at.is_(None),
        )
        return list(session.scalars(query))


def test_two_audit_records_of_one_millisecond_are_both_kept_across_incremental_syncs(
    sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    newest = sim.site_get("/wiki/rest/api/audit", site=WIKI_SITE, params={"limit": 2}).json()["results"]
    assert newest[0]["creationDate"] == newest[1]["creationDate"]  # the simulator's twins, at the bookmark
    twins = str(newest[0]["creationDate"])
    truth = sim.ground_truth()["sites"][WIKI_SITE]["products"]["confluence"]["audit_records"]
    runtime = runtime_for(sim, tmp_path, database_url)
    domain = connect(runtime, sim, WIKI_SITE)

    for _ in range(2):  # the second pass starts at the bookmark (inclusive) and re-reads both twins
        assert sync(runtime, domain).status == "success"
        keys = live_keys(runtime.sessions, domain.id)
        assert len([k for k in keys if k.split(":")[0] == twins]) == 2
        assert (len(keys), natural_digest(keys)) == (truth["count"], truth["digest"])


def test_the_migration_rekeys_audit_rows_keyed_by_time_alone(database_url: str) -> None:
    record = {
        "author": {"accountId": "557058:ada", "displayName": "Ada"},
        "creationDate": 1_780_000_000_000,
        "summary": "App installed",
        "affectedObject": {"name": "Tempo", "objectType": "App"},
    }
    engine = make_engine(database_url)
    migrate(engine, "0004")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO domains (id, site_url, name, products, created_at, created_by) "
                "VALUES (1, 'https://wiki.example.com', 'wiki', '[\"confluence\"]', :at, 'tester')"
            ),
            {"at": "2026-06-01 00:00:00+00:00"},
        )
        connection.execute(
            sa.insert(Record.__table__).values(
                domain_id=1,
                dataset=CONFLUENCE_AUDIT_RECORDS,
                key=str(record["creationDate"]),
                data=record,
                first_seen_at=sa.func.now(),
                seen_at=sa.func.now(),
            )
        )
    migrate(engine)
    with engine.connect() as connection:
        keys = connection.execute(sa.select(Record.key)).scalars().all()
    engine.dispose()
    assert keys == [confluence_audit_key(record)]
