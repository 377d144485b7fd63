"""Untrusted text on its way into storage: NUL bytes, which PostgreSQL text cannot hold, are dropped
so that a hostile app name costs one character, not a failed page. Everything else is kept verbatim
(escaping is the renderer's job, never the store's), except in the short labels ``single_line`` keeps
on one line."""

from __future__ import annotations

import unicodedata
from typing import Any

import orjson

ESCAPED_NUL = b"\\u0000"  # how JSON writes a NUL inside a string (a key or a value)


def without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def json_without_nul(value: Any) -> str:
    """``value`` as JSON text (orjson, the engine's JSON serializer: see ``storage.db``) with its NUL
    bytes dropped. The check is made on the serialized text, so the usual value, with no NUL
    anywhere, is serialized once and never copied (a literal backslash-u0000 only costs the slow way)."""
    text = orjson.dumps(value)
    if ESCAPED_NUL in text:
        text = orjson.dumps(without_nul(value))
    return text.decode()


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
