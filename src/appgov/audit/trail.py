"""Writing the audit trail: one ``AuditEvent`` per action, in the action's own transaction (a denied
request or a failed sign-in gets its own). Nothing here or anywhere in the application changes or
deletes an event; the database's triggers refuse it too (migration 0012)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.storage.models import AuditEvent

# C0 and C1 controls, DEL, and the line and paragraph separators: a newline in an email or a site
# name must not start what looks like a second record in a log or an export
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"  # attempted and failed (a wrong password, a refused connection)
    DENIED = "denied"  # refused for want of a permission


def one_line(value: str) -> str:
    """``value`` with each control character written as ``\\xNN``: it cannot start a second line."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def _clean(value: str, limit: int) -> str:
    return one_line(value)[:limit]


def clean_detail(value: Any) -> Any:
    """A detail's keys and text on one line each, and bounded; cleaning twice changes nothing."""
    if isinstance(value, str):
        return _clean(value, 2000)
    if isinstance(value, dict):
        return {_clean(str(k), 100): clean_detail(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_detail(v) for v in value]
    return value


def record_audit(
    session: Session,
    actor: Principal,
    action: str,
    target: str,
    now: datetime,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    **detail: Any,
) -> AuditEvent:
    """Who did what to which target, from where, and how it ended; kept after the target (or the
    user) is gone. Never pass a secret in ``detail``."""
    event = AuditEvent(
        at=now, actor=_clean(actor.name, 320), actor_user_id=actor.user_id, actor_via=actor.via,
        action=action, target=_clean(target, 500), detail=clean_detail(detail), outcome=outcome,
        address=actor.address and _clean(actor.address, 64), request_id=actor.request_id,
    )  # fmt: skip
    session.add(event)
    session.flush()
    return event
