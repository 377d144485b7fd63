"""The outbox: email rows written in the transaction of the event they report, sent later by the
mail sender. The unique ``dedupe_key`` makes each event's email exist once; a claim (moving
``next_attempt_at`` ahead) keeps two senders off the same row."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from appgov.storage.models import OutboxMessage

CLAIM = timedelta(minutes=2)  # a sender that dies holding a row gives it back after this
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=15)


def queue_email(
    session: Session, dedupe_key: str, to_addr: str, subject: str, body: str, now: datetime
) -> OutboxMessage | None:
    """Add a message unless one with this key exists already (then nothing is added)."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
        return None
    message = OutboxMessage(
        dedupe_key=dedupe_key, to_addr=to_addr, subject=subject, body=body, created_at=now,
        next_attempt_at=now, attempts=0,
    )  # fmt: skip
    session.add(message)
    return message


def due_ids(session: Session, now: datetime, limit: int = 20) -> list[int]:
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, message_id: int, now: datetime) -> OutboxMessage | None:
    """Take a due message for one attempt (a conditional UPDATE: one sender wins)."""
    taken = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + CLAIM)
    )
    if not getattr(taken, "rowcount", 0):
        return None
    return session.get(OutboxMessage, message_id)


def mark_sent(session: Session, message_id: int, now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
        .values(sent_at=now, last_error=None)
    )


def mark_failed(session: Session, message_id: int, error: str, now: datetime) -> None:
    """Record the failure and back off exponentially: 30 s, 1 min, 2 min, ... at most 15 min."""
    message = session.get_one(OutboxMessage, message_id)
    message.attempts += 1
    message.last_error = error[:1000]
    message.next_attempt_at = now + backoff(message.attempts)


def backoff(attempts: int) -> timedelta:
    doublings: int = min(max(attempts - 1, 0), 10)
    return min(BACKOFF_FIRST * (1 << doublings), BACKOFF_CAP)
