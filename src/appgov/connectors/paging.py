"""Paging, resumable from a JSON cursor: the loop every paged stream runs, whatever the platform's
paging style (a connector brings its styles; ``connectors/atlassian/pagination.py`` has Atlassian's).

A ``Cursor`` is the next request to make (path or absolute URL, and its query) plus what a style
needs to decide when to stop; the sync engine stores it as the checkpoint after each page, so a run
killed anywhere resumes at the page it had not yet committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from appgov.connectors.base import Client, ConnectorError, Reply

Cursor = dict[str, Any]
MAX_PAGES = 100_000


class PageLimitExceeded(ConnectorError):
    """The stream kept paging past the hard limit: almost certainly a server loop, so fail loudly."""


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next: Cursor | None  # None: the stream is complete


class Style(Protocol):
    def parse(self, reply: Reply, cursor: Cursor) -> Page: ...


def _as_list(data: Any) -> list[Any]:
    return data if isinstance(data, list) else [data]


@dataclass(frozen=True)
class Single:
    """An endpoint that answers one object or one unpaged array (``items`` picks the list)."""

    items: Callable[[Any], list[Any]] = _as_list


def start(path: str, params: dict[str, Any] | None = None) -> Cursor:
    return {"url": path, "params": dict(params or {})}


async def pages(
    client: Client, style: Style, cursor: Cursor, max_pages: int = MAX_PAGES
) -> AsyncIterator[tuple[Page, Reply]]:
    """Every page from ``cursor`` on; the caller classifies non-2xx replies it gets back."""
    for _ in range(max_pages):
        reply = await client.get(cursor["url"], params=cursor["params"] or None)
        if reply.status >= 300:
            yield Page([], None), reply
            return
        page = style.parse(reply, cursor)
        yield page, reply
        if page.next is None:
            return
        cursor = page.next
    raise PageLimitExceeded(f"{cursor['url']} kept paging past {max_pages} pages")
