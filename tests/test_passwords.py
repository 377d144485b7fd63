"""CS-11: the password policy (length, no composition rules, but not a common password, a repetition, a
run or the email's name) and how passwords are stored (argon2id with its own salt, at least ASVS's
parameters, re-hashed at sign-in when they rise)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.low_level import Type
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import select

from appgov.accounts.passwords import COMMON_COUNT, PasswordRejected, check_policy, common_passwords
from appgov.accounts.users import authenticate, create_user
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage.models import User
from support.in_process import PASSWORD, START

EMAIL = "ada.lovelace@example.com"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short pass", "at least 12 characters"),
        ("x" * 257, "at most 256 characters"),
        ("password1234", "most common"),
        ("PASSWORD1234", "most common"),  # compared without case
        ("iloveyou!!!!", "most common"),  # a listed password with a little tacked on
        ("dragon123456", "most common"),  # ... or a run tacked on
        ("passwordpassword", "most common"),  # a listed password repeated
        ("aaaaaaaaaaaa", "short block repeated"),
        ("abcabcabcabc", "short block repeated"),
        ("123456789012", "run of letters, digits or keyboard keys"),
        ("abcdefghijkl", "run of letters, digits or keyboard keys"),
        ("qwertyuiopas", "run of letters, digits or keyboard keys"),
        ("lkjhgfdsapoi", "run of letters, digits or keyboard keys"),  # backwards
        ("ada.lovelace@example.com", "email or its name"),
        ("Ada.Lovelace2026", "email or its name"),
    ],
)
def test_a_weak_password_is_refused_saying_why_without_echoing_it(password: str, why: str) -> None:
    with pytest.raises(PasswordRejected) as refused:
        check_policy(password, EMAIL)
    assert why in str(refused.value)
    assert password.lower() not in str(refused.value).lower()


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "correct horse battery staple",
        "monkey83920175",  # a common word with a long, unguessable tail
        "tr0ub4dor&3 is not it",
        "correct horse correct horse",  # a long block repeated: long enough
        "lovelace in a long sentence",
        "ünïcödé pässwörd ✓",
        "y" * 11 + "z",
        ("correct horse battery staple " * 9)[:256],  # the longest allowed
    ],
)
def test_a_long_uncommon_password_of_any_composition_is_accepted(password: str) -> None:
    check_policy(password, EMAIL)


def test_the_common_list_holds_the_ten_thousand_most_common_passwords() -> None:
    listed = common_passwords()
    assert len(listed) == COMMON_COUNT == 10_000
    assert {"123456", "password", "password1234", "qwerty"} <= listed


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    running = Runtime.start(Settings(data_dir=tmp_path, database_url=database_url))
    yield running
    running.engine.dispose()


def stored_hash(runtime: Runtime, email: str) -> str:
    with runtime.sessions() as session:
        return session.scalars(select(User.password_hash).where(User.email == email)).one()


def test_passwords_are_argon2id_with_their_own_salt_at_least_asvs_and_rehashed_when_outdated(
    runtime: Runtime,
) -> None:
    with runtime.sessions.begin() as session:
        for email in ("ada@example.com", "bo@example.com"):
            create_user(session, email, "", PASSWORD, START)
    hashes = [stored_hash(runtime, email) for email in ("ada@example.com", "bo@example.com")]
    for stored in hashes:
        used = extract_parameters(stored)  # the PHC string's own fields
        assert stored.startswith("$argon2id$v=19$")
        assert used.type is Type.ID
        # ASVS 2.4.1: m >= 19 MiB, t >= 2, p = 1; or RFC 9106's low-memory profile (m = 64 MiB, t = 3, p = 4)
        assert (used.memory_cost, used.time_cost) >= (19456, 2)
        assert used == RFC_9106_LOW_MEMORY or used.parallelism == 1
    assert hashes[0].split("$")[4] != hashes[1].split("$")[4]  # each its own salt
    assert PASSWORD not in hashes[0]
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with runtime.sessions.begin() as session:
        session.scalars(select(User).where(User.email == "ada@example.com")).one().password_hash = weak
    with runtime.sessions.begin() as session:
        assert authenticate(session, "ada@example.com", PASSWORD, START) is not None
    rehashed = stored_hash(runtime, "ada@example.com")
    assert rehashed != weak
    assert extract_parameters(rehashed) == RFC_9106_LOW_MEMORY
