"""A console with synced domains, and what tests read back from it: its database and its HTML.

Domains are connected and synced with the real command line in the console's data directory
*before* the console starts, so its scheduler finds them freshly synced and queues nothing of its
own while a test looks at them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import select

from appgov.storage.models import Domain
from support.cli import add_site, appgov
from support.console import Console, console_db, free_port
from support.simulator import Simulator


def seed_domains(sim: Simulator, data_dir: Path, sites: tuple[str, ...]) -> None:
    """Connect and sync each site with `appgov domains add` and `appgov sync`."""
    for site in sites:
        added = add_site(sim, data_dir, site)
        assert added.returncode == 0, added.stderr
        synced = appgov(sim, data_dir, "sync", site)
        assert synced.returncode == 0, synced.stderr


def seeded_console(
    sim: Simulator, sites: tuple[str, ...], then: Callable[[Path], None] | None = None
) -> Iterator[Console]:
    """A console whose data directory already holds ``sites``, connected and synced (and whatever
    ``then`` does to it), stopped after use: ``yield from`` it in a fixture."""
    data_dir = Path(tempfile.mkdtemp(prefix="appgov-console-data-"))
    seed_domains(sim, data_dir, sites)
    if then is not None:
        then(data_dir)
    running = Console(sim, free_port(), data_dir)
    yield running
    running.stop()


def domain_ids(console: Console) -> dict[str, int]:
    with console_db(console) as session:
        return {name: id_ for id_, name in session.execute(select(Domain.id, Domain.name))}


@dataclass
class Row:
    attrs: dict[str, str]
    cells: list[str]
    header: bool


class Page(HTMLParser):
    """A rendered page, parsed the way a browser builds its tree: tables, elements by id, and every
    attribute, so a test can look at what a user sees and what the browser would follow."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.tables: dict[str, list[Row]] = {}
        self.ids: dict[str, str] = {}  # element id -> its text
        self.elements: dict[str, dict[str, str]] = {}  # element id -> its attributes
        self.anchors: list[dict[str, str]] = []  # every link's attributes
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._open_ids: list[tuple[str, str, int]] = []  # (id, tag, depth)
        self._depth = 0
        self._text: dict[str, list[str]] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.attributes += [(tag, name, value) for name, value in values.items()]
        if "id" in values:
            self.elements[values["id"]] = values
        if tag == "a":
            self.anchors.append(values)
        if tag not in ("br", "input", "img", "meta", "link"):
            self._depth += 1
            if "id" in values:
                self._open_ids.append((values["id"], tag, self._depth))
                self._text[values["id"]] = []
        if tag == "table" and "id" in values:
            self._table = values["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append(Row(values, [], header=False))
        elif tag in ("td", "th") and self._table:
            self.tables[self._table][-1].header |= tag == "th"
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].cells.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None
        if self._open_ids and self._open_ids[-1][1] == tag and self._open_ids[-1][2] == self._depth:
            found, _, _ = self._open_ids.pop()
            self.ids[found] = " ".join("".join(self._text[found]).split())
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for found, _, _ in self._open_ids:
            self._text[found].append(data)

    def rows(self, table: str) -> list[Row]:
        """The table's body rows (the header row left out)."""
        return [row for row in self.tables[table] if not row.header]

    def links(self) -> list[str]:
        return [value for tag, name, value in self.attributes if name in ("href", "src", "action")]
