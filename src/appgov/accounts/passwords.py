"""Password hashing with argon2id (argon2-cffi's RFC 9106 profile), re-hashed when parameters rise."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()
MIN_LENGTH = 12
MAX_LENGTH = 256


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says why."""


def check_policy(password: str, email: str) -> None:
    """Length only (no composition rules, per NIST 800-63B), and not the account's own email."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"a password has at most {MAX_LENGTH} characters")
    if password.strip().lower() in (email.lower(), email.split("@")[0].lower()):
        raise PasswordRejected("a password must not be the account's email")


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
