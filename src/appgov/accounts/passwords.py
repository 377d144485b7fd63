"""The password policy (CS-11), and hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile),
re-hashed when the parameters rise."""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()
MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_COUNT = 10_000  # how many of the most common passwords common_passwords.txt.gz holds
# runs a password must not be a piece of (and their reverses): the alphabet, the digits (0 follows
# 9), and the keyboard's rows read left to right and top to bottom (QWERTY, QWERTZ)
RUNS = (
    "abcdefghijklmnopqrstuvwxyz" * 2,
    "0123456789" * 3,
    "1234567890qwertyuiopasdfghjklzxcvbnm",
    "1234567890qwertzuiopasdfghjklyxcvbnm",
)
SHORT_BLOCK = 4  # a password made of a block this long or shorter, repeated, is refused
_TAIL = re.compile(r"[\W\d_]+$")  # digits and symbols tacked onto the end


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says why."""


def check_policy(password: str, email: str) -> None:
    """NIST 800-63B and ASVS: a length between the bounds and no composition rules, but not one of the
    most common passwords, not a repetition or a run, and not the account's email or its name. The
    message says why, never what the password was."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"a password has at most {MAX_LENGTH} characters")
    lowered = password.strip().lower()
    block = _repeated_block(lowered)
    # what is compared with the list and the email: the password, its stem, its repeated block
    forms = {lowered, _stem(lowered), block or ""} - {""}
    account = email.strip().lower()
    if forms & {account, account.split("@")[0]}:
        raise PasswordRejected("a password must not be the account's email or its name")
    if block is not None and len(block) <= SHORT_BLOCK:
        raise PasswordRejected("a password must not be one character or a short block repeated")
    if any(lowered in run or lowered in run[::-1] for run in RUNS):
        raise PasswordRejected("a password must not be a run of letters, digits or keyboard keys")
    if forms & common_passwords():
        raise PasswordRejected(f"this password is among the {COMMON_COUNT:,} most common ones: pick another")


def _stem(lowered: str) -> str:
    """The password without the digits and symbols tacked onto its end, when they add little (four or
    fewer, or themselves a run or a repetition): ``password1234`` is ``password``. Empty otherwise."""
    tail = _TAIL.search(lowered)
    if tail is None or tail.start() < 4:
        return ""
    added = tail.group()
    weak = len(added) <= 4 or _repeated_block(added) is not None or any(added in run for run in RUNS)
    return lowered[: tail.start()] if weak else ""


def _repeated_block(text: str) -> str | None:
    """The shortest block ``text`` is two or more copies of, if any."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return None


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords (from Django's list, BSD-3-Clause: see common_passwords.NOTICE)."""
    packed = files("appgov.accounts").joinpath("common_passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(packed).decode().split())


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)


@cache
def dummy_hash() -> str:
    """Verified against when the account does not exist, so both answers take the same time (made on
    first need: every `appgov` command imports this module)."""
    return HASHER.hash("appgov: no such account")
