"""The file formats every export shares (the app inventory, the audit trail): CSV whose cells a
spreadsheet never runs as formulas, and a JSON array with one object a line; both written row by
row, so a long export can be streamed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

FORMATS = ("csv", "json")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A list is its items separated by spaces, a mapping its compact JSON, None an empty cell."""
    if isinstance(value, list):
        text = " ".join(value)
    elif isinstance(value, Mapping):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    else:
        text = "" if value is None else str(value)
    # a spreadsheet would run a cell that starts like a formula: make it text
    return "'" + text if text.startswith(FORMULA_LEADERS) else text


def csv_lines(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header, then one CSV record per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(row[column]) for column in columns])
        yield buffer.getvalue()


def json_lines(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """A JSON array, one object a line."""
    separator = "[\n"
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False)
        separator = ",\n"
    yield "[]\n" if separator == "[\n" else "\n]\n"


def export_chunks(format: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The rows as ``format`` (one of ``FORMATS``), a piece at a time."""
    return csv_lines(columns, rows) if format == "csv" else json_lines(rows)
