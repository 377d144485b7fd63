"""The generic description of a data set that the sync engine runs: its request, its paging, its
natural key, where it sits among the others (parent, fan-out, derived), and its audit bookmark.
A connector declares its streams with it (or a subclass that adds what only it needs).

A stream with a ``parent`` runs once per live row of the parent data set (for example group
members per group); ``fan_out`` lists a second level (project role actors per project and role).
A ``derive_from`` stream makes no request: it explodes rows nested in another stream's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from appgov.connectors.base import Row
from appgov.connectors.paging import Single, Style


def _no_context(parent: Row, other: Row | None) -> dict[str, Any]:
    return {}


def _nothing(row: Row) -> Iterable[Row]:
    return ()


def _same(row: Row) -> Row:
    return row


@dataclass(frozen=True)
class Stream:
    name: str  # "<group>.<data set>", the records table's dataset column
    path: str  # relative to the client's base; {placeholders} come from the parent row
    key: Callable[[Row], str]
    style: Style | Single = field(default_factory=Single)
    params: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    fan_out: str | None = None  # a second parent data set crossed with the first (e.g. roles)
    # for child streams: what a parent row (and fan-out row) contributes; it fills the path's
    # placeholders, is merged into every row, and the names in ``context_params`` go in the query
    context: Callable[[Row, Row | None], dict[str, Any]] = _no_context
    context_params: tuple[str, ...] = ()
    derive_from: str | None = None
    derive: Callable[[Row], Iterable[Row]] = _nothing
    transform: Callable[[Row], Row] = _same
    # audit logs: incremental by time; the bookmark is the newest ``bookmark_field`` seen, sent back
    # (inclusive) as ``bookmark_param``; overlapping rows de-duplicate by key
    bookmark_field: str = ""
    bookmark_param: str = ""
    # the installed apps: the domain is ready once this data set is in (notify.events)
    app_inventory: bool = False

    def depends_on(self) -> list[str]:
        """Data sets this stream reads from storage, which run before it."""
        return [n for n in (self.parent, self.fan_out, self.derive_from) if n]
