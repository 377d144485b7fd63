"""Untrusted JSON on its way into storage: NUL bytes dropped everywhere, everything else verbatim."""

from __future__ import annotations

import orjson

from appgov.storage.text import json_without_nul


def test_nul_bytes_are_dropped_from_keys_and_nested_values() -> None:
    value = {"na\x00me": ["a\x00b", {"deep": "\x00x\x00"}], "n": 1}

    assert orjson.loads(json_without_nul(value)) == {"name": ["ab", {"deep": "x"}], "n": 1}


def test_text_that_only_spells_an_escaped_nul_is_kept_verbatim() -> None:
    value = {"vendor": "C:\\u0000\\temp", "name": "\u202e<script>"}

    assert orjson.loads(json_without_nul(value)) == value
