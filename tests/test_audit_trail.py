"""The audit trail (AZ-06): the database itself refuses to change or delete an event, no module of
appgov asks it to, and the one query that reads the trail filters, pages and exports what it says,
one event a line whatever control characters an actor, a target or a detail carries."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from appgov.accounts.principal import Principal, Via
from appgov.audit import listing
from appgov.audit.listing import COLUMNS, AuditFilter, audit_page, exported_rows
from appgov.audit.trail import AuditOutcome, record_audit
from appgov.cli import app as cli
from appgov.config import Settings
from appgov.exports import export_chunks
from appgov.runtime import Runtime
from appgov.storage.models import AuditEvent

SRC = Path(__file__).parent.parent / "src" / "appgov"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ADA = Principal("ada@example.com", Via.CONSOLE, user_id=1, role="admin", address="10.0.0.1", request_id="a1")
BOB = Principal("bob@example.com", Via.API, user_id=2, role="viewer", address="10.0.0.2", request_id="b2")
SCHEDULER = Principal("scheduler", Via.SCHEDULER)
SITE = "https://acme.atlassian.net"
# (who, action, target, outcome, when): six events over three days, oldest first
TRAIL = [
    (ADA, "signin.succeeded", "ada@example.com", AuditOutcome.SUCCESS, T0),
    (BOB, "signin.failed", "bob@example.com", AuditOutcome.FAILURE, T0 + timedelta(hours=1)),
    (BOB, "access.denied", "POST /domains/1/delete", AuditOutcome.DENIED, T0 + timedelta(hours=2)),
    (ADA, "domain.added", SITE, AuditOutcome.SUCCESS, T0 + timedelta(days=1)),
    (ADA, "domain.deleted", SITE, AuditOutcome.SUCCESS, T0 + timedelta(days=2)),
    (SCHEDULER, "domain.sync_requested", SITE, AuditOutcome.SUCCESS, T0 + timedelta(days=2, hours=1)),
]


def started(database_url: str, data_dir: Path) -> Runtime:
    return Runtime.start(Settings(data_dir=data_dir, database_url=database_url))


def seeded(runtime: Runtime) -> list[int]:
    """The six events of ``TRAIL``; their ids, oldest first."""
    with runtime.sessions.begin() as session:
        return [record_audit(session, *event[:3], event[4], event[3]).id for event in TRAIL]


def stored_rows(runtime: Runtime) -> list[tuple[Any, ...]]:
    with runtime.sessions() as session:
        return [tuple(row) for row in session.execute(text("SELECT * FROM audit_events ORDER BY id"))]


def test_the_database_refuses_to_update_delete_or_truncate_audit_events(
    database_url: str, tmp_path: Path
) -> None:
    runtime = started(database_url, tmp_path)
    ids = seeded(runtime)
    before = stored_rows(runtime)
    attempts: list[Any] = [
        text("UPDATE audit_events SET actor = 'mallory@example.com'"),
        text("UPDATE audit_events SET outcome = 'success' WHERE outcome = 'denied'"),
        text("DELETE FROM audit_events WHERE id = :id").bindparams(id=ids[0]),
        text("DELETE FROM audit_events"),
        update(AuditEvent).values(target="nothing happened"),
        delete(AuditEvent),
    ]
    if runtime.engine.dialect.name == "postgresql":
        attempts.append(text("TRUNCATE audit_events"))
    for attempt in attempts:
        with pytest.raises(DBAPIError, match="append-only"), runtime.sessions.begin() as session:
            session.execute(attempt)
    with pytest.raises(DBAPIError, match="append-only"), runtime.sessions.begin() as session:
        session.delete(session.get_one(AuditEvent, ids[-1]))
    assert stored_rows(runtime) == before


# what would change or delete an audit event: the ORM's update() or delete() on AuditEvent, its
# table's, or SQL naming the table (the migrations, which ran before the triggers existed, aside)
CHANGES_THE_TRAIL = re.compile(
    r"\b(update|delete)\(\s*AuditEvent\b|AuditEvent\.__table__\.(update|delete)\b"
    r"|\b(UPDATE|DELETE\s+FROM|TRUNCATE(\s+TABLE)?)\s+audit_events\b",
    re.IGNORECASE,
)


def test_no_module_of_appgov_updates_or_deletes_an_audit_event() -> None:
    assert CHANGES_THE_TRAIL.search("session.execute(delete(AuditEvent).where(AuditEvent.id == 1))")
    assert CHANGES_THE_TRAIL.search('text("truncate audit_events")')
    offenders = [
        f"{path.relative_to(SRC)}: {match.group()}"
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
        for match in CHANGES_THE_TRAIL.finditer(path.read_text())
    ]
    assert offenders == []


def selected(runtime: Runtime, **filters: str) -> list[int]:
    with runtime.sessions() as session:
        return [row.id for row in audit_page(session, AuditFilter.parse(**filters)).rows]


def test_filters_select_what_they_name_newest_first(database_url: str, tmp_path: Path) -> None:
    runtime = started(database_url, tmp_path)
    signed_in, failed, denied, added, deleted, sync = seeded(runtime)
    assert selected(runtime) == [sync, deleted, added, denied, failed, signed_in]
    assert selected(runtime, actor="ADA@") == [deleted, added, signed_in]
    assert selected(runtime, actor="%") == []  # a LIKE wildcard is text here
    assert selected(runtime, action="domain.") == [sync, deleted, added]
    assert selected(runtime, action="domain") == []  # without the final dot: that exact action
    assert selected(runtime, action="signin.failed") == [failed]
    assert selected(runtime, outcome="denied") == [denied]
    assert selected(runtime, target="ACME.atlassian") == [sync, deleted, added]
    assert selected(runtime, since="2026-12-02") == [sync, deleted, added]
    assert selected(runtime, until="2026-12-01") == [denied, failed, signed_in]  # all of that day
    assert selected(runtime, since="2026-12-01T10:00", until="2026-12-01T11:00") == [failed]
    assert selected(runtime, since="2026-12-01T11:00:00+01:00", until="2026-12-01T11:00Z") == [failed]
    assert selected(runtime, actor="ada", action="domain.", until="2026-12-02") == [added]
    with pytest.raises(ValueError, match="outcome is one of success, failure, denied"):
        AuditFilter.parse(outcome="maybe")
    with pytest.raises(ValueError, match="since is a date"):
        AuditFilter.parse(since="yesterday")


def test_pages_are_cut_by_event_id_and_link_to_their_neighbours(database_url: str, tmp_path: Path) -> None:
    runtime = started(database_url, tmp_path)
    ids = seeded(runtime)[::-1]  # newest first
    with runtime.sessions() as session:
        first = audit_page(session, AuditFilter(), per_page=2)
        second = audit_page(session, AuditFilter(), before=first.older_before, per_page=2)
        last = audit_page(session, AuditFilter(), before=second.older_before, per_page=2)
        back = audit_page(session, AuditFilter(), after=last.newer_after, per_page=2)
        domains = audit_page(session, AuditFilter(action="domain."), per_page=2)
        rest = audit_page(session, AuditFilter(action="domain."), before=domains.older_before, per_page=2)
    assert [[row.id for row in page.rows] for page in (first, second, last)] == [ids[:2], ids[2:4], ids[4:]]
    assert (first.newer_after, first.older_before) == (None, ids[1])
    assert (second.newer_after, second.older_before) == (ids[2], ids[3])
    assert (last.newer_after, last.older_before) == (ids[4], None)
    assert [row.id for row in back.rows] == ids[2:4]
    assert {first.total, second.total, last.total} == {6}
    assert ([row.id for row in domains.rows], domains.total) == (ids[:2], 3)
    assert ([row.id for row in rest.rows], rest.older_before) == ([ids[2]], None)


def csv_records(chunks: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(chunks))))


def test_exports_hold_every_field_of_the_filtered_events_in_batches(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = started(database_url, tmp_path)
    ids = seeded(runtime)[::-1]
    monkeypatch.setattr(listing, "EXPORT_BATCH", 2)  # three events span two batches
    domains = AuditFilter.parse(action="domain.")
    rows = list(exported_rows(runtime.sessions, domains))
    assert [row["id"] for row in rows] == ids[:3]
    assert list(rows[1]) == list(COLUMNS)
    assert rows[1] == {
        "id": ids[1], "at": "2026-12-03T09:00:00+00:00", "actor": "ada@example.com", "actor_user_id": 1,
        "via": "console", "action": "domain.deleted", "target": SITE, "outcome": "success",
        "address": "10.0.0.1", "request_id": "a1", "detail": {},
    }  # fmt: skip
    assert [row["id"] for row in exported_rows(runtime.sessions, AuditFilter(), limit=3)] == ids[:3]
    as_csv = csv_records(export_chunks("csv", COLUMNS, exported_rows(runtime.sessions, domains)))
    assert [int(record["id"]) for record in as_csv] == ids[:3]
    assert as_csv[1]["at"] == "2026-12-03T09:00:00+00:00"
    as_json = json.loads("".join(export_chunks("json", COLUMNS, exported_rows(runtime.sessions, domains))))
    assert as_json == rows


HOSTILE_ACTOR = '=HYPERLINK("http://evil.example")\r\neve@example.com\x00,forged\u2028line\x85'
HOSTILE_TARGET = "https://acme.atlassian.net\n2026-12-01,root,signin.succeeded\u2029\x9b"
HOSTILE_DETAIL = {"note\r\n": "first\nsecond\x00\u2028third", "list": ["a\rb", "\x1bc"]}


def test_control_characters_cannot_forge_a_second_line_in_either_export(
    database_url: str, tmp_path: Path
) -> None:
    runtime = started(database_url, tmp_path)
    hostile = Principal(HOSTILE_ACTOR, Via.API, address="10.0.0.3\n10.0.0.4", request_id="r3")
    with runtime.sessions.begin() as session:
        record_audit(session, hostile, "domain.added", HOSTILE_TARGET, T0, **HOSTILE_DETAIL)
        # a row written around record_audit, its controls stored raw (PostgreSQL refuses NUL in text),
        # still reads as one line
        session.add(AuditEvent(
            at=T0, actor=HOSTILE_ACTOR.replace("\x00", ""), actor_via="api", action="domain.deleted",
            target=HOSTILE_TARGET, detail=HOSTILE_DETAIL, outcome="success", address="::1\r\n",
            request_id="r4\n",
        ))  # fmt: skip
    as_csv = "".join(export_chunks("csv", COLUMNS, exported_rows(runtime.sessions, AuditFilter())))
    assert len(as_csv.splitlines()) == 3  # the header and one line per event
    records = csv_records([as_csv])
    assert all(record["actor"].startswith("'=HYPERLINK") for record in records)  # text, not a formula
    for record in records:
        assert "\\x0d\\x0aeve@example.com" in record["actor"]
        assert "forged\\x2028line\\x85" in record["actor"]
    as_json = "".join(export_chunks("json", COLUMNS, exported_rows(runtime.sessions, AuditFilter())))
    lines = as_json.splitlines()
    assert (lines[0], lines[-1], len(lines)) == ("[", "]", 4)
    events = [json.loads(line.rstrip(",")) for line in lines[1:-1]]
    notes = [event["detail"]["note\\x0d\\x0a"] for event in events]
    assert notes == ["first\\x0asecond\\x00\\x2028third"] * 2
    assert {event["address"] for event in events} == {"10.0.0.3\\x0a10.0.0.4", "::1\\x0d\\x0a"}


def test_the_command_line_exports_the_filtered_trail_to_a_file(database_url: str, tmp_path: Path) -> None:
    runtime = started(database_url, tmp_path)
    ids = seeded(runtime)[::-1]
    output = tmp_path / "audit.csv"
    env = {"APPGOV_DATA_DIR": str(tmp_path), "APPGOV_DATABASE_URL": database_url}
    args = ["audit", "export", "--format", "csv", "--action", "domain.", "--until", "2026-12-02"]
    done = CliRunner().invoke(cli, [*args, "--output", str(output)], env=env)
    assert done.exit_code == 0, done.output
    assert [int(record["id"]) for record in csv_records([output.read_text()])] == [ids[2]]
    as_json = CliRunner().invoke(cli, ["audit", "export", "--outcome", "denied"], env=env)
    assert [event["action"] for event in json.loads(as_json.stdout)] == ["access.denied"]
    refused = CliRunner().invoke(cli, ["audit", "export", "--since", "last week"], env=env)
    assert refused.exit_code == 1
    assert "since is a date" in refused.output
