"""Creating users (with a password, or linked to the identity provider) and checking passwords."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.accounts.passwords import (
    check_policy,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from appgov.accounts.permissions import Role
from appgov.storage.models import User


class UserExists(ValueError):
    pass


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or any(ch.isspace() for ch in email):
        raise ValueError(f"{email!r} is not an email address")
    return email


def create_user(
    session: Session, email: str, name: str, password: str, now: datetime, *, role: Role = Role.VIEWER
) -> User:
    email = normalize_email(email)
    check_policy(password, email)
    if session.scalar(select(User).where(User.email == email)):
        raise UserExists(f"a user {email} already exists")
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        role=role,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def create_sso_user(
    session: Session, email: str, name: str, issuer: str, subject: str, now: datetime, *, role: Role
) -> User:
    """A user created at their first sign-in through the identity provider: no password, linked to
    the provider's (issuer, subject)."""
    email = normalize_email(email)
    if session.scalar(select(User).where(User.email == email)):
        raise UserExists(f"a user {email} already exists")
    user = User(
        email=email, name=name.strip()[:200] or email, password_hash=None, sso_issuer=issuer,
        sso_subject=subject, role=role, created_at=now,
    )  # fmt: skip
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The user, when the password is right and the account enabled; the same work is done for an
    unknown email."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or user.disabled_at is not None or user.password_hash is None:
        verify_password(dummy_hash(), password)  # an SSO-only user has no password to sign in with
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    return user
