"""The sync engine: runs every stream of a domain into storage, resumably.

- **One run per domain**: a lease on the domain row, renewed as pages commit, expiring when its
  holder dies, so a killed worker never wedges a domain (SY-03).
- **Checkpoints**: each page's rows and the stream's next cursor commit in one transaction, so a run
  killed at any point resumes at the first uncommitted page and ends with exactly the rows of an
  uninterrupted run (SY-01, SY-02). A deferred or orphaned run is resumed, not restarted.
- **Deletions only from complete passes** (SY-04); audit logs are incremental with an inclusive
  bookmark (SY-12).
- **The platform is the connector's** (``connectors.protocol.Connector``): the engine runs the
  streams it declares with the clients it builds, and it classifies each reply: ``CredentialsRejected``
  fails the run, ``Unavailable`` marks the data set *unavailable* with the platform's reason (never
  empty data), a 404 under a parent means the parent is gone, and a ``Deferred`` wait ends the run
  *deferred* with its resume time. After each complete pass the connector's ``after_pass`` runs in
  the closing transaction (Atlassian's app inventory and change log).
- **Database outages** (SY-10): every transaction is tried again, whole, while the database is
  unreachable (``storage.db.retried_on_disconnect``); one that stays away longer ends the run
  *deferred*, and the next run resumes from the checkpoints committed before it went.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from appgov.clock import Clock, SystemClock
from appgov.connectors.base import ConnectorError, CredentialsRejected, Row, Unavailable
from appgov.connectors.paging import Cursor, Single, pages, start
from appgov.connectors.protocol import Connector, DomainClients
from appgov.connectors.retry import Deferred
from appgov.connectors.streams import Stream
from appgov.outcomes import Code, Outcome
from appgov.runtime import worker_id
from appgov.security.secrets import SecretError
from appgov.storage import records
from appgov.storage.db import DatabaseUnavailable, retried_on_disconnect
from appgov.storage.models import DatasetState, Domain, SyncRun
from appgov.storage.text import json_without_nul, without_nul
from appgov.sync.faults import fault_point

E = TypeVar("E", bound=BaseException)
log = logging.getLogger(__name__)
FLUSH_ROWS = 2_000  # children's rows held before a commit
Progress = Callable[[str, int], None]  # (data set, rows added)


class AlreadyRunning(Exception):
    """Another live worker holds this domain's lease."""


@dataclass
class RunContext:
    run: SyncRun
    domain: Domain
    clients: DomainClients
    full: bool
    errors: dict[str, str] = field(default_factory=dict)


class SyncEngine:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        connector: Connector,
        *,
        clock: Clock | None = None,
        owner: str | None = None,
        lease_seconds: float = 300.0,
        concurrency: int = 8,
        progress: Progress | None = None,
    ) -> None:
        self.sessions = sessions
        self.connector = connector
        self.clock = clock or SystemClock()
        self.owner = owner or worker_id()
        self.lease = timedelta(seconds=lease_seconds)
        self.concurrency = concurrency
        self.progress = progress or (lambda dataset, added: None)

    # --- the run --------------------------------------------------------------------------------

    async def sync(self, domain_id: int, clients: DomainClients, full: bool = False) -> SyncRun:
        """One run. Cancelling the task ends the run *cancelled* (its reason is the cancel's message
        when that is an ``Outcome``) with its checkpoints kept, releases the lease, and re-raises."""
        ctx = await self._begin(domain_id, clients, full)
        try:
            await self._classified(ctx)
        except asyncio.CancelledError as stop:
            why = stop.args[0] if stop.args and isinstance(stop.args[0], Outcome) else Outcome(Code.CANCELLED)
            ctx.run.status, ctx.run.message, ctx.run.outcome = "cancelled", why.text, why
            raise
        finally:
            await self._finish(ctx)
        return ctx.run

    async def _classified(self, ctx: RunContext) -> None:
        try:
            await self._run_all(ctx, self.streams_for(ctx.domain))
            ctx.run.status = "partial" if ctx.errors else "success"
            failed = Outcome(Code.DATASETS_FAILED, {"datasets": sorted(ctx.errors)})
            ctx.run.outcome = failed if ctx.errors else None
        except* Deferred as waits:
            wait = min(_leaves(waits, Deferred), key=lambda w: w.resume_at)
            ctx.run.status, ctx.run.resume_at, ctx.run.message = "deferred", wait.resume_at, wait.reason
            ctx.run.outcome = wait.outcome
        except* DatabaseUnavailable as lost:  # resumable now from the checkpoints committed before
            ctx.run.status, ctx.run.resume_at = "deferred", self.clock.now()
            ctx.run.message = str(_leaves(lost, DatabaseUnavailable)[0])
            ctx.run.outcome = Outcome(Code.DATABASE_UNAVAILABLE, {"detail": ctx.run.message})
        except* ConnectorError as errors:  # credentials rejected, or a failure outside any one data set
            error = _leaves(errors, ConnectorError)[0]
            ctx.run.status, ctx.run.message, ctx.run.outcome = "failed", str(error), error.outcome
        except* SecretError as unreadable:  # a stored token no longer decrypts: nothing to retry (CS-02)
            ctx.run.status, ctx.run.message = "failed", str(_leaves(unreadable, SecretError)[0])
            log.warning("domain %s: a stored secret does not decrypt: %s", ctx.domain.id, ctx.run.message)
            ctx.run.outcome = Outcome(Code.SECRET_UNREADABLE, {"detail": ctx.run.message})

    def streams_for(self, domain: Domain) -> list[Stream]:
        return list(self.connector.streams_for(domain))

    async def _run_all(self, ctx: RunContext, streams: list[Stream]) -> None:
        """Every stream at once, each after the ones it reads from; the client bounds concurrency."""
        finished = {stream.name: asyncio.Event() for stream in streams}

        async def run(stream: Stream) -> None:
            for name in stream.depends_on():
                if name in finished:
                    await finished[name].wait()
            await self._run_stream(ctx, stream)
            finished[stream.name].set()

        async with asyncio.TaskGroup() as group:
            for stream in streams:
                group.create_task(run(stream))

    @retried_on_disconnect
    async def _begin(self, domain_id: int, clients: DomainClients, full: bool) -> RunContext:
        now = self.clock.now()
        with self.sessions.begin() as session:
            taken = session.execute(
                update(Domain)
                .where(Domain.id == domain_id)
                .where(
                    (Domain.lease_owner.is_(None))
                    | (Domain.lease_expires_at < now)
                    | (Domain.lease_owner == self.owner)
                )
                .values(lease_owner=self.owner, lease_expires_at=now + self.lease)
            )
            if not getattr(taken, "rowcount", 0) and not self._take_from_dead_holder(session, domain_id):
                raise AlreadyRunning(f"domain {domain_id} is being synced by another worker")
            domain = session.get_one(Domain, domain_id)
            run = session.scalar(
                select(SyncRun)
                .where(SyncRun.domain_id == domain_id, SyncRun.status.in_(("running", "deferred")))
                .order_by(SyncRun.id.desc())
                .limit(1)
            )
            if run is None:
                run = SyncRun(
                    domain_id=domain_id, status="running", full=full, started_at=now, counts={}, errors={}
                )
                session.add(run)
            else:  # an orphaned or deferred run: resume it from its checkpoints
                run.status, run.resume_at, run.message, run.outcome = "running", None, None, None
            session.flush()
        return RunContext(run, domain, clients, full or run.full, dict(run.errors or {}))

    def _take_from_dead_holder(self, session: Session, domain_id: int) -> bool:
        """A lease held by a process of this host that no longer exists is taken over at once."""
        holder = session.scalar(select(Domain.lease_owner).where(Domain.id == domain_id))
        host, _, rest = (holder or "").partition(":")  # host:pid, then what the run is (a job's id)
        pid = rest.split(":")[0]
        if host != socket.gethostname() or not pid.isdigit() or _alive(int(pid)):
            return False
        taken = session.execute(
            update(Domain)
            .where(Domain.id == domain_id, Domain.lease_owner == holder)
            .values(lease_owner=self.owner, lease_expires_at=self.clock.now() + self.lease)
        )
        return bool(getattr(taken, "rowcount", 0))

    @retried_on_disconnect
    async def _finish(self, ctx: RunContext) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            run = session.get(SyncRun, ctx.run.id)
            if run is None:  # the domain was deleted under the run: nothing is left to finish
                return
            run.status = ctx.run.status if ctx.run.status != "running" else "failed"
            run.resume_at, run.message, run.outcome = ctx.run.resume_at, ctx.run.message, ctx.run.outcome
            run.finished_at = None if run.status == "deferred" else now
            # from the counts the run began with: a retried transaction must not add them twice
            run.requests = ctx.run.requests + sum(c.stats.requests for c in ctx.clients.all())
            run.retries = ctx.run.retries + sum(c.stats.retries for c in ctx.clients.all())
            run.errors = ctx.errors
            states = session.scalars(select(DatasetState).where(DatasetState.domain_id == ctx.domain.id))
            run.counts = {s.dataset: (s.count if s.status == "ok" else s.status) for s in states}
            session.execute(
                update(Domain)
                .where(Domain.id == ctx.domain.id, Domain.lease_owner == self.owner)
                .values(lease_owner=None, lease_expires_at=None)
            )
            ctx.run = run

    def _heartbeat(self, session: Session, domain_id: int) -> None:
        session.execute(
            update(Domain)
            .where(Domain.id == domain_id, Domain.lease_owner == self.owner)
            .values(lease_expires_at=self.clock.now() + self.lease)
        )

    # --- one stream -----------------------------------------------------------------------------

    async def _run_stream(self, ctx: RunContext, stream: Stream) -> None:
        state = await self._state(ctx, stream)
        if state.run_id == ctx.run.id and state.checkpoint is None and state.status != "pending":
            return  # finished earlier in this (resumed) run
        pass_started = state.pass_started_at if state.checkpoint is not None else self.clock.now()
        assert pass_started is not None
        checkpoint = dict(state.checkpoint or {})
        try:
            if stream.derive_from:
                await self._derive(ctx, stream, pass_started)
            elif stream.parent:
                await self._children(ctx, stream, pass_started, checkpoint)
            else:
                await self._pages(ctx, stream, pass_started, checkpoint, state.bookmark)
        except Unavailable as err:
            await self._close_stream(ctx, stream, pass_started, status="unavailable", reason=err)
            return
        except (CredentialsRejected, Deferred):
            raise
        except ConnectorError as err:
            ctx.errors[stream.name] = str(err)
            await self._close_stream(
                ctx, stream, pass_started, status="error", reason=err, keep_checkpoint=True
            )
            return
        await self._close_stream(ctx, stream, pass_started, status="ok")

    @retried_on_disconnect
    async def _state(self, ctx: RunContext, stream: Stream) -> DatasetState:
        with self.sessions.begin() as session:
            state = session.get(DatasetState, (ctx.domain.id, stream.name))
            if state is None:
                state = DatasetState(domain_id=ctx.domain.id, dataset=stream.name, status="pending", count=0)
                session.add(state)
            return state

    async def _pages(
        self,
        ctx: RunContext,
        stream: Stream,
        pass_started: datetime,
        checkpoint: dict[str, Any],
        bookmark: str | None,
    ) -> None:
        if isinstance(stream.style, Single):
            reply = await ctx.clients.for_stream(stream).get(stream.path, params=stream.params or None)
            items = stream.style.items(self.connector.outcome(reply, stream))
            enriched = await ctx.clients.enrich(stream, items)
            await self._commit(ctx, stream, pass_started, enriched, {"done": True})
            return
        cursor: Cursor = checkpoint.get("cursor") or start(
            stream.path, self._first_params(ctx, stream, bookmark)
        )
        newest = checkpoint.get("newest")
        async for page, reply in pages(ctx.clients.for_stream(stream), stream.style, cursor):
            self.connector.outcome(reply, stream)
            items = await ctx.clients.enrich(stream, page.items)
            if stream.bookmark_field:
                newest = max([newest or "", *(str(r.get(stream.bookmark_field, "")) for r in items)])
            await self._commit(ctx, stream, pass_started, items, {"cursor": page.next, "newest": newest})
            fault_point("after_page_commit")

    def _first_params(self, ctx: RunContext, stream: Stream, bookmark: str | None) -> dict[str, Any]:
        params = dict(stream.params)
        if stream.bookmark_param and bookmark and not ctx.full:
            params[stream.bookmark_param] = bookmark  # inclusive: the overlap de-duplicates by key
        return params

    async def _children(
        self, ctx: RunContext, stream: Stream, pass_started: datetime, checkpoint: dict[str, Any]
    ) -> None:
        """Parents ``concurrency`` at a time, the next one starting as soon as any is done, so that a
        big group holds up no other. Children's rows gather in one buffer committed every
        ``FLUSH_ROWS`` rows and every ``concurrency`` parents done (memory stays flat however big a
        group or a row is); the checkpoint is the last parent that is in with all before it."""
        after = checkpoint.get("after")
        units = await self._parent_units(ctx, stream, after)
        buffer: list[Row] = []
        resume = {"after": after}
        done = [False] * len(units)
        queue = iter(range(len(units)))  # shared by the workers: each parent is taken once
        frontier = finished = committed = 0  # units[:frontier] are all in; finished, committed: counts

        async def worker() -> None:
            nonlocal frontier, finished, committed
            for index in queue:
                await self._child(ctx, stream, pass_started, units[index][1], buffer, resume)
                done[index], finished = True, finished + 1
                while frontier < len(units) and done[frontier]:
                    frontier += 1
                    resume["after"] = units[frontier - 1][0]
                if finished - committed >= self.concurrency or finished == len(units):
                    await self._commit(ctx, stream, pass_started, buffer, dict(resume))
                    buffer.clear()
                    committed = finished
                    fault_point("after_page_commit")

        workers = [asyncio.create_task(worker()) for _ in range(min(self.concurrency, len(units)))]
        try:
            await asyncio.gather(*workers)
        finally:  # a failed parent ends the stream: the others stop too
            for task in workers:
                task.cancel()

    @retried_on_disconnect
    async def _parent_units(
        self, ctx: RunContext, stream: Stream, after: str | None
    ) -> list[tuple[str, dict[str, Any]]]:
        """(progress key, context) per parent row (crossed with the fan-out rows), in key order.

        Only the small contexts are kept, never the parents' data: memory stays flat with size.
        """
        assert stream.parent is not None
        with self.sessions() as session:
            others: list[tuple[str, Row | None]] = (
                list(records.live(session, ctx.domain.id, stream.fan_out)) if stream.fan_out else [("", None)]
            )
            units = (
                (f"{parent.key}\x1f{other_key}", parent.data, other)
                for parent in records.live(session, ctx.domain.id, stream.parent)
                for other_key, other in others
            )
            return [
                (unit, stream.context(data, other))
                for unit, data, other in units
                if after is None or unit > after
            ]

    async def _child(
        self,
        ctx: RunContext,
        stream: Stream,
        pass_started: datetime,
        context: dict[str, Any],
        buffer: list[Row],
        resume: dict[str, Any],
    ) -> None:
        params = {**stream.params, **{name: context[name] for name in stream.context_params}}
        path = stream.path.format(**context)
        client = ctx.clients.for_stream(stream)
        if isinstance(stream.style, Single):
            reply = await client.get(path, params=params or None)
            if reply.status != 404:  # a 404: the parent went away mid-sync
                data = self.connector.outcome(reply, stream)
                buffer.extend({**item, **context} for item in stream.style.items(data))
            return
        async for page, reply in pages(client, stream.style, start(path, params)):
            if reply.status == 404:
                return
            self.connector.outcome(reply, stream)
            buffer.extend({**item, **context} for item in page.items)
            if len(buffer) >= FLUSH_ROWS:
                await self._commit(ctx, stream, pass_started, buffer, resume)
                buffer.clear()

    @retried_on_disconnect
    async def _derive(self, ctx: RunContext, stream: Stream, pass_started: datetime) -> None:
        """Explode rows nested in another data set, committed a batch at a time (idempotent on resume)."""
        assert stream.derive_from is not None
        batch: list[Row] = []
        with self.sessions() as session:
            for parent in records.live(session, ctx.domain.id, stream.derive_from):
                batch.extend(stream.derive(parent.data))
                if len(batch) >= FLUSH_ROWS:
                    await self._commit(ctx, stream, pass_started, batch, {"deriving": True})
                    batch = []
        await self._commit(ctx, stream, pass_started, batch, {"done": True})

    # --- commits --------------------------------------------------------------------------------

    @retried_on_disconnect
    async def _commit(
        self,
        ctx: RunContext,
        stream: Stream,
        pass_started: datetime,
        items: Sequence[Row],
        checkpoint: dict[str, Any],
    ) -> None:
        rows = [(without_nul(stream.key(item)), json_without_nul(stream.transform(item))) for item in items]
        with self.sessions.begin() as session:
            records.upsert(session, ctx.domain.id, stream.name, rows, pass_started)
            fault_point("after_upsert_before_commit")
            state = session.get_one(DatasetState, (ctx.domain.id, stream.name))
            state.checkpoint, state.pass_started_at, state.run_id = checkpoint, pass_started, ctx.run.id
            state.status, state.reason, state.outcome = "running", None, None
            self._heartbeat(session, ctx.domain.id)
        self.progress(stream.name, len(rows))

    @retried_on_disconnect
    async def _close_stream(
        self,
        ctx: RunContext,
        stream: Stream,
        pass_started: datetime,
        *,
        status: str,
        reason: ConnectorError | None = None,
        keep_checkpoint: bool = False,
    ) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            state = session.get_one(DatasetState, (ctx.domain.id, stream.name))
            newest = (state.checkpoint or {}).get("newest")
            if status == "ok" and not stream.bookmark_field:
                records.remove_unseen(session, ctx.domain.id, stream.name, pass_started, now)
            if status == "ok" and newest:
                state.bookmark = newest
            if status == "ok":
                self.connector.after_pass(session, ctx.domain.id, stream, now)
            state.status, state.run_id = status, ctx.run.id
            state.reason, state.outcome = (str(reason), reason.outcome) if reason else (None, None)
            state.checkpoint = state.checkpoint if keep_checkpoint else None
            state.pass_started_at = pass_started if keep_checkpoint else None
            state.completed_at = now if status == "ok" else state.completed_at
            state.count = records.count_live(session, ctx.domain.id, stream.name)


def _leaves(group: BaseExceptionGroup[Any], kind: type[E]) -> list[E]:
    """The exceptions of one kind inside a (nested) exception group."""
    found: list[E] = []
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            found += _leaves(error, kind)
        elif isinstance(error, kind):
            found.append(error)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
