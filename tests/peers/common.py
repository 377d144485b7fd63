"""What every driver shares: the simulator's address and credentials in, natural keys out.

A driver runs inside its tool's own virtualenv (``tests/support/peers.py``), reads its config as
JSON on stdin and prints one JSON object on stdout: ``data`` maps a data set's name (as in the
simulator's ground truth) to what the tool read, ``errors`` maps it to why the tool failed to read
it, ``seconds`` says how long each took. A data set the tool cannot read at all is left out.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any


def read_config() -> dict[str, Any]:
    """The test's config from stdin: ``site_url``, ``domain`` (host:port/path), ``email``,
    ``api_token``, ``start_date``, ``sets`` (the data sets to read) and tool-specific settings."""
    return dict(json.load(sys.stdin))


def read_all(readers: dict[str, Callable[[], Any]], config: dict[str, Any]) -> None:
    """Read each asked-for data set on its own: one that fails is reported and the rest still run."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for name in config["sets"]:
        read = readers[name]
        started = time.monotonic()
        try:
            data[name] = read()
        except Exception as err:  # any failure of the tool is a finding to report
            errors[name] = f"{type(err).__name__}: {err}"[:1000]
        seconds[name] = round(time.monotonic() - started, 3)
    emit_results(data, errors, seconds)


def emit_results(
    data: dict[str, Any], errors: dict[str, str], seconds: dict[str, float] | None = None
) -> None:
    json.dump({"data": data, "errors": errors, "seconds": seconds or {}}, sys.stdout)
    sys.stdout.write("\n")


def until_short(fetch: Callable[[int], list[Any]]) -> Iterator[Any]:
    """Page a bare array the way the tools do: ask from ``start`` until a page comes back short.

    The first page's length is the server's effective page size (it may cap ``maxResults``).
    """
    start, size = 0, 0
    while True:
        page = fetch(start)
        yield from page
        size = size or len(page)
        if not page or len(page) < size:
            return
        start += len(page)


def until_last(fetch: Callable[[int], dict[str, Any]], items: str = "values") -> Iterator[Any]:
    """Page a Jira PageBean from ``startAt`` until ``isLast`` (or an empty page)."""
    start = 0
    while True:
        page = fetch(start)
        values = page.get(items, [])
        yield from values
        if page.get("isLast", True) or not values:
            return
        start += len(values)


def until_total(fetch: Callable[[int], dict[str, Any]], items: str = "records") -> Iterator[Any]:
    """Page Jira's audit log (``offset``/``limit``/``total``) until ``total`` records are read."""
    offset = 0
    while True:
        page = fetch(offset)
        records = page.get(items, [])
        yield from records
        offset += len(records)
        if not records or offset >= page.get("total", 0):
            return


def until_no_next(fetch: Callable[[int], dict[str, Any]]) -> Iterator[Any]:
    """Page Confluence v1 (``start``/``limit``/``size``) until ``_links.next`` is gone."""
    start = 0
    while True:
        page = fetch(start)
        results = page.get("results", [])
        yield from results
        start += len(results)
        if not results or "next" not in page.get("_links", {}):
            return


def user_installed(upm: dict[str, Any]) -> list[str]:
    """The plugin manager's third-party apps: system plugins have ``userInstalled: false``."""
    return [plugin["key"] for plugin in upm.get("plugins", []) if plugin.get("userInstalled")]


def server_facts(info: dict[str, Any]) -> dict[str, Any]:
    return {key: info.get(key) for key in ("baseUrl", "deploymentType", "versionNumbers")}


def actor_key(project_id: str, role_id: int, actor: dict[str, Any]) -> str:
    """A project role actor as the ground truth names it: ``project:role:type:groupId|accountId``."""
    kind = actor["type"]
    value = actor.get("actorGroup", {}).get("groupId") or actor.get("actorUser", {}).get("accountId")
    return f"{project_id}:{role_id}:{kind}:{value}"
