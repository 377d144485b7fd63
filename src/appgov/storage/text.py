"""Untrusted text on its way into storage: NUL bytes, which PostgreSQL text cannot hold, are dropped
so that a hostile app name costs one character, not a failed page. Everything else is kept verbatim
(escaping is the renderer's job, never the store's), except in the short labels ``single_line`` keeps
on one line."""

from __future__ import annotations

import unicodedata
from typing import Any


def without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


# the embeddings, overrides and isolates that reorder the text around them (marks are harmless)
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def single_line(value: Any) -> str | None:
    """A short upstream label such as a person's name, kept as one line: line breaks, tabs and runs
    of spaces become one space, other control characters (NUL, terminal escapes) and bidi overrides
    are dropped. None when it is not text or nothing is left."""
    if not isinstance(value, str):
        return None
    spaced = " ".join(value.split())
    kept = "".join(ch for ch in spaced if unicodedata.category(ch) != "Cc" and ch not in BIDI_CONTROLS)
    return kept.strip() or None
