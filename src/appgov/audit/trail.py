"""Writing the audit trail: one ``AuditEvent`` per action, in the action's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.storage.models import AuditEvent


def record_audit(
    session: Session, actor: Principal, action: str, target: str, now: datetime, **detail: Any
) -> AuditEvent:
    """Who did what to which site; kept after the domain (or the user) is gone."""
    event = AuditEvent(
        at=now, actor=actor.name, actor_user_id=actor.user_id, actor_via=actor.via, action=action,
        target=target, detail=detail,
    )  # fmt: skip
    session.add(event)
    session.flush()
    return event
