"""Which handler does each kind of job: kind name -> ``JobKind``. A runner claims only the kinds
its registry knows, so a runner of an older release leaves a newer kind's jobs alone.

Adding a kind (revoke, notify, watch, upkeep): write its handler (``jobs.kinds.Handler``) beside
``workers.sync_job`` and add its ``JobKind`` to ``KINDS``; queue it with ``jobs.queue.enqueue``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from appgov.jobs.kinds import JobKind
from appgov.workers.org_sync_job import ORG_SYNC_KIND
from appgov.workers.sync_job import SYNC_KIND


class Registry:
    def __init__(self, kinds: Iterable[JobKind] = ()) -> None:
        self._kinds: dict[str, JobKind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: JobKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} is registered already")
        self._kinds[kind.name] = kind

    def __getitem__(self, name: str) -> JobKind:
        return self._kinds[name]

    def __iter__(self) -> Iterator[JobKind]:
        return iter(self._kinds.values())

    def names(self) -> list[str]:
        return sorted(self._kinds)


KINDS = Registry([SYNC_KIND, ORG_SYNC_KIND])
