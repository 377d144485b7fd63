"""A user's in-app notifications: the list (newest first, with each one's domain when it still
exists), the unread count, and marking them read. Who gets which notification is decided where the
event happens (a domain ready, a sync error); this module only reads and marks a user's own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from appgov.storage.models import Domain, Notification

LISTED = 200


@dataclass(frozen=True)
class InboxItem:
    id: int
    kind: str
    message: str
    created_at: datetime
    read_at: datetime | None
    domain_id: int | None
    domain_name: str | None


def inbox(session: Session, user_id: int, limit: int = LISTED) -> list[InboxItem]:
    query = (
        select(Notification, Domain.name)
        .outerjoin(Domain, Domain.id == Notification.domain_id)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [
        InboxItem(n.id, n.kind, n.message, n.created_at, n.read_at, n.domain_id, name)
        for n, name in session.execute(query)
    ]


def unread_count(session: Session, user_id: int) -> int:
    query = select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    return int(session.scalar(query) or 0)


def mark_read(session: Session, user_id: int, now: datetime, ids: Sequence[int] | None = None) -> int:
    """Mark the user's unread notifications read (only ``ids`` when given); how many changed.

    Another user's ids are ignored rather than refused: they were never this user's to see.
    """
    query = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(list(ids)))
    return int(getattr(session.execute(query.values(read_at=now)), "rowcount", 0) or 0)
