"""SY-10: database restarts and lock contention are survivable.

PostgreSQL is stopped and restarted under a sync, under the background runner and under the console
on a private server of this module (support.private_postgres), never the shared one. On SQLite, the
console and four syncs write at once, and concurrent read-modify-write transactions lose nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from appgov.accounts.throttle import FREE_FAILURES, Count, record_failure
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage import db
from appgov.storage.models import App, DatasetState, Domain, LoginThrottle, Record, SyncRun
from appgov.sync.service import sync_domain
from appgov.workers.runner import Runner
from appgov_sim.tenant.generate import natural_digest
from support.cli import add_site, appgov
from support.console import Console
from support.jobs import job_status, queue_sync, run_until, wait_for
from support.private_postgres import PrivatePostgres, private_postgres
from support.product import connect, runtime_for
from support.simulator import Simulator

LOCKED = "database is locked"
DATASET_NAMES = {"memberships": "group_members"}  # the ground truth's names that appgov's differ from


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    yield from private_postgres()


def assert_copy_is_the_ground_truth(runtime: Runtime, sim: Simulator, domain_id: int, site: str) -> None:
    """Every data set of the site holds exactly the simulator's rows: none missing, none twice (but
    for those Atlassian refuses, like a Free plan's audit log: unavailable, as test_sync checks)."""
    truth = sim.ground_truth()["sites"][site]["products"]
    with runtime.sessions() as session:
        unavailable = set(
            session.scalars(
                select(DatasetState.dataset).where(
                    DatasetState.domain_id == domain_id, DatasetState.status == "unavailable"
                )
            )
        )
        for product, datasets in truth.items():
            for name, expected in datasets.items():
                dataset = f"{product}.{DATASET_NAMES.get(name, name)}"
                if dataset in unavailable:
                    continue
                query = select(Record.key).where(
                    Record.domain_id == domain_id, Record.dataset == dataset, Record.removed_at.is_(None)
                )
                if name == "app_inventory":  # the apps of both sources, merged: the inventory's own table
                    query = select(App.key).where(
                        App.domain_id == domain_id, App.product == product, App.removed_at.is_(None)
                    )
                keys = list(session.scalars(query))
                assert (len(keys), natural_digest(keys)) == (expected["count"], expected["digest"]), dataset


def run_statuses(runtime: Runtime, domain_id: int) -> list[str]:
    with runtime.sessions() as session:
        query = select(SyncRun.status).where(SyncRun.domain_id == domain_id).order_by(SyncRun.id)
        return list(session.scalars(query))


class Heard(logging.Handler):
    """``event`` is set once appgov logs a line containing ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.WARNING)
        self.text = text
        self.event = threading.Event()
        logging.getLogger("appgov").addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()

    def close(self) -> None:
        logging.getLogger("appgov").removeHandler(self)
        super().close()


class OutageAtCommit:
    """Stops PostgreSQL while the ``nth`` transaction that wrote records commits: its rows are sent,
    its COMMIT is not. Starts it again once appgov has logged ``then`` (it found the database gone)."""

    def __init__(self, server: PrivatePostgres, engine: Engine, nth: int, then: str) -> None:
        self.server, self.nth = server, nth
        self.writes = 0
        self.heard = Heard(then)
        self.back = threading.Event()
        self.starter: threading.Thread | None = None
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _statement(self, connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO records"):
            connection.info["wrote_records"] = True

    def _commit(self, connection: Any) -> None:
        if not connection.info.pop("wrote_records", False):
            return
        self.writes += 1
        if self.writes == self.nth:
            self.server.stop()
            self.starter = threading.Thread(target=self._start_when_heard)
            self.starter.start()

    def _rollback(self, connection: Any) -> None:
        connection.info.pop("wrote_records", None)

    def _start_when_heard(self) -> None:
        self.heard.event.wait(120)  # a deadline: the assertions say whether it was heard
        self.server.start()
        self.back.set()

    def finish(self) -> None:
        if self.starter is not None:
            self.starter.join(180)
        self.heard.close()


# --- PostgreSQL restarts under a sync -------------------------------------------------------------


def test_a_sync_carries_on_through_a_postgresql_restart_between_its_transactions(
    sim: Simulator, tmp_path: Path, postgres: PrivatePostgres
) -> None:
    runtime = runtime_for(sim, tmp_path, postgres.database())
    domain = connect(runtime, sim)
    pages: list[str] = []

    def restart_at_third_page(dataset: str, _rows: int) -> None:
        pages.append(dataset)
        if len(pages) == 3:
            postgres.restart()  # every pooled connection of the run dies with the old server

    run = asyncio.run(sync_domain(runtime, domain.id, progress=restart_at_third_page))

    assert len(pages) > 3  # pages committed after the restart too
    assert run.status == "success", run.errors
    assert run_statuses(runtime, domain.id) == ["success"]
    assert_copy_is_the_ground_truth(runtime, sim, domain.id, "acme")


def test_a_transaction_cut_at_its_commit_by_an_outage_is_applied_whole_once_postgresql_is_back(
    sim: Simulator, tmp_path: Path, postgres: PrivatePostgres
) -> None:
    runtime = runtime_for(sim, tmp_path, postgres.database())
    domain = connect(runtime, sim)
    outage = OutageAtCommit(postgres, runtime.engine, nth=5, then="trying again")
    try:
        run = asyncio.run(sync_domain(runtime, domain.id))
    finally:
        outage.finish()

    assert outage.heard.event.is_set()
    assert outage.back.is_set()
    assert outage.writes > 5  # the run went on writing after the outage
    assert run.status == "success", run.errors
    assert run_statuses(runtime, domain.id) == ["success"]
    assert_copy_is_the_ground_truth(runtime, sim, domain.id, "acme")


def test_a_run_the_database_left_for_too_long_is_resumed_by_the_runner_from_its_checkpoints(
    sim: Simulator, tmp_path: Path, postgres: PrivatePostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "OUTAGE_PATIENCE", 1.0)  # give up at once instead of after a minute
    runtime = runtime_for(sim, tmp_path, postgres.database())
    domain = connect(runtime, sim)
    job_id = queue_sync(runtime, domain.id)
    runner = Runner(runtime, claim=timedelta(seconds=2))
    outage = OutageAtCommit(postgres, runtime.engine, nth=5, then=f"sync job {job_id} stopped")

    def done() -> bool:
        """the job is done, after the outage"""
        return outage.back.is_set() and job_status(runtime, job_id) == "done"

    try:
        asyncio.run(run_until([runner], done))
    finally:
        outage.finish()

    assert outage.heard.event.is_set()
    assert run_statuses(runtime, domain.id) == ["success"]  # the one run, resumed and finished
    assert_copy_is_the_ground_truth(runtime, sim, domain.id, "acme")


# --- the console while PostgreSQL is down ---------------------------------------------------------


def test_the_console_answers_503_while_postgresql_is_down_and_carries_on_once_it_is_back(
    sim: Simulator, postgres: PrivatePostgres
) -> None:
    console = Console(sim, APPGOV_DATABASE_URL=postgres.database())
    try:
        signed = console.sign_in()
        postgres.stop()
        try:
            page = signed.get("/integrations")
            api = signed.api("GET", "/api/v1/domains")

            def runner_met_the_outage() -> bool:
                """the runner logged the outage"""
                return "the runner's tick failed: the database is unavailable" in console.log()

            asyncio.run(wait_for(runner_met_the_outage, 30))
        finally:
            postgres.start()

        for answer in (page, api):
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"].isdigit()
            assert "Traceback" not in answer.text
            assert "psycopg" not in answer.text
        assert "The database is unavailable; try again shortly." in page.text
        assert api.json() == {"detail": "The database is unavailable; try again shortly."}
        assert signed.get("/integrations").status_code == 200
        assert signed.api("GET", "/api/v1/domains").status_code == 200

        account = sim.state["accounts"]["site_admin"]
        body = {"site_url": sim.site_url(), "email": account["email"], "api_token": account["api_token"]}
        added = signed.api("POST", "/api/v1/domains", json=body)
        assert added.status_code == 201, added.text

        def synced() -> bool:
            """the background runner synced the domain added after the outage"""
            runs = signed.api("GET", f"/api/v1/domains/{added.json()['id']}/runs").json()
            return [run["status"] for run in runs] == ["success"]

        asyncio.run(wait_for(synced, 90))
        assert "Traceback" not in console.log()  # an outage is logged in a line, not as a crash
    finally:
        console.stop()


# --- SQLite under concurrent writers --------------------------------------------------------------


def test_concurrent_read_modify_write_transactions_on_sqlite_lose_no_update_and_never_lock(
    tmp_path: Path,
) -> None:
    runtime = sqlite_runtime(tmp_path)
    attempts, threads = 10, 4
    errors: list[BaseException] = []

    def fail_sign_ins() -> None:
        try:
            for _ in range(attempts):
                with runtime.sessions.begin() as session:
                    record_failure(session, "ada@example.com", "192.0.2.1", runtime.clock.now())
        except BaseException as err:  # collected: the assertion below shows it
            errors.append(err)

    workers = [threading.Thread(target=fail_sign_ins) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)

    assert errors == []
    with runtime.sessions() as session:
        counted = {row.key: row.failures for row in session.scalars(select(LoginThrottle))}
    keys = ("account:ada@example.com", "ip:192.0.2.1", "pair:ada@example.com|192.0.2.1")
    assert counted == dict.fromkeys(keys, attempts * threads)
    assert attempts * threads > FREE_FAILURES[Count.ADDRESS]  # enough to block, had any been lost


def sqlite_runtime(data_dir: Path) -> Runtime:
    return Runtime.start(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'appgov.db'}"))


def test_the_console_and_four_concurrent_syncs_on_sqlite_never_find_the_database_locked(
    sim: Simulator, fresh_sim: Simulator, tmp_path: Path
) -> None:
    sites = [(sim, "acme"), (sim, "acme-eng"), (sim, "acme-wiki"), (fresh_sim, "acme")]
    for site_sim, site in sites:  # connected and synced before the console starts: its scheduler waits
        assert add_site(site_sim, tmp_path, site).returncode == 0
        assert appgov(site_sim, tmp_path, "sync", site_sim.site_url(site)).returncode == 0
    console = Console(sim, data_dir=tmp_path)
    answers: list[tuple[str, int]] = []
    try:
        signed = console.sign_in()
        with ThreadPoolExecutor(len(sites)) as pool:
            syncs = [
                pool.submit(appgov, site_sim, tmp_path, "sync", "--full", site_sim.site_url(site))
                for site_sim, site in sites
            ]
            while not all(s.done() for s in syncs):  # the console in use while the four write
                for path in ("/integrations", "/apps", "/api/v1/domains", "/api/v1/notifications"):
                    answers.append((path, signed.get(path).status_code))
        done = [s.result() for s in syncs]
    finally:
        console.stop()

    outputs = [d.stdout + d.stderr for d in done]
    assert [d.returncode for d in done] == [0, 0, 0, 0], outputs
    assert not any(LOCKED in output for output in outputs)
    assert LOCKED not in console.log()
    assert len(answers) >= 8
    assert {status for _, status in answers} == {200}, answers
    runtime = sqlite_runtime(tmp_path)
    with runtime.sessions() as session:
        ids = list(session.scalars(select(Domain.id).order_by(Domain.id)))  # in the order they were added
    for domain_id, (site_sim, site) in zip(ids, sites, strict=True):
        assert_copy_is_the_ground_truth(runtime, site_sim, domain_id, site)
