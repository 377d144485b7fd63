"""API tokens about to expire, found by the scheduler's pass (reliability CS-08): from
``expiry_warning_days`` before the expiry date their owner entered, the admins are told once per
token and date (notify.expiry). A conditional UPDATE of ``expiry_warned_at`` takes the turn, so
neither two passes at once nor a restart tell twice; a new token or a new date clears it
(integrations.domains.put_api_token, integrations.connect.set_api_token_expiry)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from appgov.notify.expiry import api_token_expiring
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, Domain


def warn_api_token_expiry(runtime: Runtime) -> int:
    """Warn of every API token expiring within the lead time not warned of yet; returns how many."""
    now = runtime.clock.now()
    soon = now + timedelta(days=runtime.settings.expiry_warning_days)
    with runtime.sessions() as session:
        due = select(ApiToken.id).where(
            ApiToken.expires_at.is_not(None), ApiToken.expires_at <= soon, ApiToken.expiry_warned_at.is_(None)
        )
        token_ids = list(session.scalars(due.order_by(ApiToken.id)))
    return sum(_warn(runtime, token_id) for token_id in token_ids)


def _warn(runtime: Runtime, token_id: int) -> bool:
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.expires_at is None:
            return False  # deleted, or its date removed, since the read
        taken = session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                ApiToken.expires_at == token.expires_at,  # the date we read: not a newer one
                ApiToken.expiry_warned_at.is_(None),
            )
            .values(expiry_warned_at=now)
        )
        if not getattr(taken, "rowcount", 0):
            return False  # another pass warned first
        domain = session.get_one(Domain, token.domain_id)
        api_token_expiring(session, runtime.settings, token, domain, token.expires_at, now)
        return True
