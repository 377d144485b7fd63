"""Every pagination style Atlassian uses, with the real page-size caps, and the paging quirks.

- Jira PageBean: ``startAt``/``maxResults``/``total``/``isLast``/``values`` and an absolute
  ``nextPage`` on the simulator's own host and port.
- Jira bare arrays (``users/search``, ``role``, ``field``...): ``startAt``/``maxResults``, no envelope.
- Jira audit: ``offset``/``limit``/``total``/``records``.
- Confluence v1: ``start``/``limit``/``size`` with a relative ``_links.next``.
- Cursors (organization API, Marketplace): an opaque, tamper-evident cursor.

Quirks (see ``appgov_sim.faults``) bend a page the way a busy real tenant does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import orjson

from appgov_sim.faults import Fault
from appgov_sim.http import ApiError, int_param

T = TypeVar("T")

# (default, maximum) page sizes per endpoint, as Atlassian serves them (references §4, §5;
# docs/simulator/peers.md).
CAPS: dict[str, tuple[int, int]] = {
    "users/search": (50, 1000),
    "group/bulk": (50, 50),
    "group/member": (50, 50),
    "project/search": (50, 100),
    "auditing/record": (1000, 1000),
    "bare": (50, 1000),  # role, field, applicationrole: bare arrays with no documented paging
    "confluence/group": (25, 50),  # [I] the v1 group cap is undocumented; 50 keeps three pages on `small`
    "confluence/members": (25, 50),  # [I]
    "confluence/audit": (25, 1000),  # [I]
    "confluence/theme": (25, 100),
    "org": (100, 100),  # organization admin API pages [I]
    "org/events": (25, 100),
    "marketplace": (10, 50),
}


@dataclass(slots=True)
class Window:
    items: list[Any]
    start: int
    size: int  # the effective page size (maxResults echoes it)
    total: int  # the reported total (a quirk may lie)
    is_last: bool


def window(seq: Sequence[T], start: int, size: int, quirks: list[Fault]) -> Window:
    """Slice one page of ``seq`` from ``start``, bent by any paging quirks that apply."""
    total = len(seq)
    page = start // size if size else 0
    first, length, reported, empty = start, size, total, False
    for quirk in quirks:
        if page < int(quirk.params.get("page", 1)) and quirk.kind != "short_page":
            continue
        if not quirk.spend():
            continue
        if quirk.kind == "short_page":
            length = min(length, max(1, int(quirk.params.get("size", max(1, size // 2)))))
        elif quirk.kind in ("duplicates", "insert_while_paging"):
            first = max(0, start - 1)  # an item inserted ahead of the cursor: the previous one comes again
            reported += 1 if quirk.kind == "insert_while_paging" else 0
        elif quirk.kind == "remove_while_paging":
            first = start + 1  # an item removed ahead of the cursor: one still present is skipped
            reported -= 1
        elif quirk.kind == "wrong_total":
            reported += int(quirk.params.get("delta", 7))
        elif quirk.kind == "empty_page":
            empty = True
    items = [] if empty else list(seq[first : first + length])
    is_last = not empty and first + length >= total
    return Window(items, start, length, reported, is_last)


def page_params(
    params: Any, cap_key: str, start_name: str = "startAt", size_name: str = "maxResults"
) -> tuple[int, int]:
    default, maximum = CAPS[cap_key]
    start = int_param(params, start_name, 0)
    size = int_param(params, size_name, default, maximum=maximum)
    if size == 0:
        size = default
    return start, size


def with_query(url: str, params: Any, **updates: Any) -> str:
    merged = {k: v for k, v in params.multi_items() if k not in updates} if params is not None else {}
    pairs = list(merged.items()) + [(k, v) for k, v in updates.items() if v is not None]
    return f"{url}?{urlencode(pairs)}" if pairs else url


def page_bean(base_url: str, params: Any, win: Window, render: Callable[[Any], Any]) -> dict[str, Any]:
    """Jira's PageBean with absolute ``self`` and ``nextPage`` links."""
    body: dict[str, Any] = {
        "self": with_query(base_url, params, startAt=win.start, maxResults=win.size),
        "maxResults": win.size,
        "startAt": win.start,
        "total": win.total,
        "isLast": win.is_last,
        "values": [render(item) for item in win.items],
    }
    if not win.is_last:
        next_start = win.start if not win.items else win.start + win.size
        body["nextPage"] = with_query(base_url, params, startAt=next_start, maxResults=win.size)
        # keep key order as Jira sends it: self, nextPage, maxResults...
        body = {
            "self": body["self"],
            "nextPage": body["nextPage"],
            **{k: v for k, v in body.items() if k not in ("self", "nextPage")},
        }
    return body


def confluence_links(site_base: str, path: str, params: Any, win: Window) -> dict[str, Any]:
    """Confluence v1 ``_links``: ``next`` relative to ``base`` (which ends in ``/wiki``)."""
    base = f"{site_base}/wiki"
    links: dict[str, Any] = {"base": base, "context": "/wiki", "self": f"{base}{path}"}
    if not win.is_last:
        next_start = win.start if not win.items else win.start + win.size
        links["next"] = with_query(path, params, start=next_start, limit=win.size)
    return links


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset})).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """An offset from an opaque cursor; a tampered or foreign cursor is a 400, not a 500."""
    if not cursor:
        return 0
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = data["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(cursor)
        return offset
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise ApiError(400, "Invalid page cursor", errors={"cursor": "invalid"}) from None


@dataclass(slots=True)
class CursorPage:
    """One page of a cursor-paged list (organization API, Marketplace)."""

    items: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def cursor_page(seq: Sequence[T], cursor: str | None, size: int) -> CursorPage:
    offset = decode_cursor(cursor)
    more = offset + size < len(seq)
    return CursorPage(
        list(seq[offset : offset + size]),
        encode_cursor(offset + size) if more else None,
        encode_cursor(max(0, offset - size)) if offset else None,
    )


def cursor_links(url: str, params: Any, page: CursorPage) -> dict[str, str | None]:
    """``links.self/prev/next`` as full URLs; ``next`` is null on the last page."""

    def at(cursor: str | None) -> str | None:
        return with_query(url, params, cursor=cursor) if cursor else None

    return {"self": with_query(url, params), "prev": at(page.prev_cursor), "next": at(page.next_cursor)}
