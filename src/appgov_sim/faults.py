"""Faults the control API switches on, per site and endpoint: what a real tenant does on a bad day.

A fault matches requests by site name (or any site) and by a glob on the site-relative path
(``/rest/api/3/users/search``, ``/wiki/rest/api/group*``, ``*``). ``times`` bounds how many
requests it hits (``-1``: until cleared). Faults for the site name ``marketplace`` hit the
Marketplace, and for ``auth`` the authorization server's token endpoint (``/oauth/token``).
Transport faults (latency, 429, 5xx, resets, truncated or oversized bodies) are applied by
``appgov_sim.endpoint``; pagination quirks by ``appgov_sim.paging``.
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

TRANSPORT_KINDS = ("latency", "rate_limit", "server_error", "reset", "truncate", "oversize")
PAGING_KINDS = (
    "wrong_total",
    "empty_page",
    "duplicates",
    "short_page",
    "insert_while_paging",
    "remove_while_paging",
)
KINDS = TRANSPORT_KINDS + PAGING_KINDS


@dataclass(slots=True)
class Fault:
    """One switched-on fault. ``params`` per kind:

    - latency: ``ms``
    - rate_limit: ``retry_after`` (seconds) and ``retry_after_format`` (``seconds`` | ``date``)
    - server_error: ``status`` (500, 502, 503, 504), optional ``retry_after``
    - reset, truncate: none; oversize: ``bytes`` of padding added to the JSON body
    - server_error and reset also take ``processed`` (true): the request is served first (a
      refresh rotates the tokens, a write is made), then its answer is lost to the 5xx or the
      reset, as when the real cloud fails between doing and answering
    - wrong_total: ``delta``; empty_page and duplicates and insert/remove_while_paging: ``page``
      (0-based page index at which it happens, default 1); short_page: ``size``
    """

    fault_id: int
    kind: str
    site: str | None = None
    path: str = "*"
    times: int = -1
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def matches(self, site: str | None, path: str) -> bool:
        return (self.site is None or self.site == site) and fnmatch.fnmatchcase(path, self.path)

    def spend(self) -> bool:
        """Count one hit; False once the fault is exhausted."""
        if self.times != -1 and self.hits >= self.times:
            return False
        self.hits += 1
        return True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


NUMERIC_PARAMS = ("ms", "retry_after", "status", "bytes", "delta", "page", "size")


def _check_params(params: dict[str, Any]) -> None:
    """Refuse a bad fault when it is switched on, not with a 500 on the request it hits."""
    for name in NUMERIC_PARAMS:
        value = params.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > 10**9:
            raise ValueError(f"fault parameter {name!r} must be a number of at most 1e9")
    if not isinstance(params.get("processed", False), bool):
        raise ValueError("fault parameter 'processed' must be true or false")
    if "status" in params and not 500 <= params["status"] <= 599:
        raise ValueError("fault parameter 'status' must be a 5xx status")


class FaultBook:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(
        self,
        kind: str,
        *,
        site: str | None = None,
        path: str = "*",
        times: int = -1,
        params: dict[str, Any] | None = None,
    ) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")
        if not isinstance(path, str) or not isinstance(site, str | None):
            raise ValueError("a fault's site and path must be strings")
        checked = dict(params or {})
        _check_params(checked)
        fault = Fault(next(self._ids), kind, site, path or "*", times, checked)
        self.faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        before = len(self.faults)
        self.faults = [f for f in self.faults if f.fault_id != fault_id]
        return len(self.faults) != before

    def clear(self) -> None:
        self.faults.clear()

    def matching(self, site: str | None, path: str) -> list[Fault]:
        """Faults that apply to this request (the caller spends them)."""
        if not self.faults:
            return []
        return [f for f in self.faults if f.matches(site, path) and (f.times == -1 or f.hits < f.times)]
