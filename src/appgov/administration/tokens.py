"""Personal API tokens, created by their user (shown once) and revoked by their user or an admin;
both audited, never with the token itself."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.accounts.tokens import issue_token, revoke_token
from appgov.audit.trail import record_audit
from appgov.storage.models import PersonalToken, User


def create_personal_token(
    session: Session, user: User, name: str, lifetime: timedelta, by: Principal, now: datetime
) -> tuple[str, PersonalToken]:
    """A new token for ``user``: the plaintext, to show once, and its row."""
    token, row = issue_token(session, user, name, now, lifetime)
    record_audit(
        session, by, "token.created", user.email, now, token=row.id, name=row.name, prefix=row.prefix,
        expires_at=row.expires_at.isoformat(),
    )  # fmt: skip
    return token, row


def revoke_personal_token(
    session: Session, owner: User, token_id: int, by: Principal, now: datetime
) -> PersonalToken | None:
    """Revoke one of ``owner``'s tokens; None when it is not theirs or was already revoked."""
    row = revoke_token(session, owner.id, token_id, now)
    if row is not None:
        record_audit(session, by, "token.revoked", owner.email, now, token=row.id, name=row.name)
    return row
