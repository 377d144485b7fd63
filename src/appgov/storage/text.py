"""Untrusted text on its way into storage: NUL bytes, which PostgreSQL text cannot hold, are dropped
so that a hostile app name costs one character, not a failed page. Everything else is kept verbatim
(escaping is the renderer's job, never the store's)."""

from __future__ import annotations

from typing import Any


def without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value
