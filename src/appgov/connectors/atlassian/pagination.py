"""Every paging style Atlassian uses, each parsing a reply into a page and the next cursor (the loop
and the cursor are generic: ``connectors/paging.py``).

Stopping rules are chosen to survive what busy tenants do (reliability SY-08): a page shorter than
asked is not the end (servers cap silently); an empty page in the middle is not the end when the
server says more follows; duplicates are harmless (rows are upserted by natural key); a hard page
limit fails the stream loudly instead of truncating it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appgov.connectors.atlassian.client import AtlassianError
from appgov.connectors.base import Reply
from appgov.connectors.paging import Cursor, Page
from appgov.outcomes import Code, Outcome


def _advance(cursor: Cursor, **params: Any) -> Cursor:
    return {**cursor, "url": cursor["url"], "params": {**cursor["params"], **params}}


def _items(data: Any, key: str | None) -> list[Any]:
    items = data if key is None else (data or {}).get(key)
    if not isinstance(items, list):
        raise AtlassianError(
            f"expected a list{' under ' + repr(key) if key else ''} in the response",
            outcome=Outcome(Code.UNEXPECTED_REPLY, {"key": key}),
        )
    return items


class PageBean:
    """Jira's ``startAt``/``maxResults``/``isLast``/``values`` envelope, following ``nextPage``."""

    def parse(self, reply: Reply, cursor: Cursor) -> Page:
        data = reply.data or {}
        values = _items(data, "values")
        if data.get("isLast") is True or (data.get("isLast") is None and not values):
            return Page(values, None)
        if isinstance(data.get("nextPage"), str):
            return Page(values, {**cursor, "url": data["nextPage"], "params": {}})
        step = len(values) or int(data.get("maxResults") or 0)
        return Page(values, _advance(cursor, startAt=int(data.get("startAt", 0)) + step))


class UntilEmpty:
    """Offset paging without a trustworthy end marker (Jira's bare arrays, the audit log's
    ``offset``/``limit``): a short page or a wrong ``total`` is not the end; the end is an empty page
    after a short one, or two empty pages in a row (a full last page is followed by one empty page)."""

    def __init__(
        self, items_key: str | None = None, size_param: str = "maxResults", start_param: str = "startAt"
    ) -> None:
        self.items_key, self.size_param, self.start_param = items_key, size_param, start_param

    def parse(self, reply: Reply, cursor: Cursor) -> Page:
        items = _items(reply.data, self.items_key)
        params = cursor["params"]
        asked = int(params.get(self.size_param, 50))
        if not items and (cursor.get("short") or cursor.get("empty")):
            return Page(items, None)
        following = _advance(cursor, **{self.start_param: int(params.get(self.start_param, 0)) + len(items)})
        following["short"] = 0 < len(items) < asked
        following["empty"] = not items
        return Page(items, following)


def BareArray() -> UntilEmpty:
    """A bare JSON array paged by ``startAt``/``maxResults`` (``users/search``)."""
    return UntilEmpty()


def OffsetLimit() -> UntilEmpty:
    """Jira audit's ``offset``/``limit``/``total``/``records``."""
    return UntilEmpty("records", "limit", "offset")


class StartLimitLinks:
    """Confluence v1's ``start``/``limit``/``results`` with ``_links.next`` relative to ``_links.base``."""

    def parse(self, reply: Reply, cursor: Cursor) -> Page:
        data = reply.data or {}
        results = _items(data, "results")
        links = data.get("_links") or {}
        following = links.get("next")
        if not isinstance(following, str) or not following:
            return Page(results, None)
        base = str(links.get("base") or "").rstrip("/")
        url = following if following.startswith("http") else base + following
        return Page(results, {**cursor, "url": url, "params": {}})


class LinksNext:
    """The organization admin API's cursor lists: ``data`` with ``links.next``, a full URL carrying the
    next opaque cursor (references §6); the end is a missing or null ``links.next``."""

    def parse(self, reply: Reply, cursor: Cursor) -> Page:
        data = reply.data or {}
        items = _items(data, "data")
        following = (data.get("links") or {}).get("next") if isinstance(data, dict) else None
        if not isinstance(following, str) or not following:
            return Page(items, None)
        return Page(items, {**cursor, "url": following, "params": {}})


class GraphQLConnection:
    """A GraphQL connection (``nodes``, ``pageInfo { hasNextPage endCursor }``) at ``path`` under
    ``data``, each node shaped into a row by ``shape``; the next page sends ``after`` (the client
    turns the cursor's params into the query's variables: ``clients.GraphQLClient``). Atlassian
    answers a GraphQL error with HTTP 200, ``errors`` and ``data`` null: that page is the last, and
    the reply's outcome (``outcomes._ok``) classifies the error."""

    def __init__(self, path: tuple[str, ...], shape: Callable[[Any], Any]) -> None:
        self.path, self.shape = path, shape

    def parse(self, reply: Reply, cursor: Cursor) -> Page:
        found: Any = (reply.data or {}).get("data") if isinstance(reply.data, dict) else None
        if found is None:
            return Page([], None)
        for name in self.path:
            found = (found or {}).get(name)
        nodes = _items(found, "nodes")
        info = (found or {}).get("pageInfo") or {}
        rows = [self.shape(node) for node in nodes]
        after = info.get("endCursor")
        if info.get("hasNextPage") is True and isinstance(after, str) and after:
            return Page(rows, _advance(cursor, after=after))
        return Page(rows, None)
