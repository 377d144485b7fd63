"""Key rotation (CS-04): every stored secret re-encrypted with the keyring's newest key, online.

Small batches, each its own transaction, in key order per encrypted column (storage.sealed): a
rotation killed at any point is simply run again, and the rows already on the newest key are
skipped, so nothing is encrypted twice or lost. Syncs and the console go on meanwhile: each row is
written back only if it still holds the ciphertext that was read (a compare-and-set), so a token
refreshed at the same moment (connectors.atlassian.grants) is never overwritten with the old one;
such a row was written with the newest key by the refresh itself. Every process must run with the
new keyring before a rotation, or it would go on writing with the old key (a second rotation then
moves what it wrote).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.audit.trail import record_audit
from appgov.runtime import Runtime
from appgov.security.secrets import SecretBox, SecretError
from appgov.storage.sealed import SEALED, Sealed

BATCH_SIZE = 200


@dataclass
class Moved:
    """One encrypted column's rows, after a rotation."""

    kind: str
    moved: int = 0  # re-encrypted with the newest key now
    current: int = 0  # on the newest key already
    changed: int = 0  # written by someone else between the read and the write: left as written
    unreadable: int = 0  # decrypt with no key of the ring (their domains' syncs say so: CS-02)

    def line(self) -> str:
        return (
            f"{self.kind}: {self.moved} re-encrypted, {self.current} already on the newest key, "
            f"{self.changed} changed meanwhile, {self.unreadable} unreadable"
        )


Progress = Callable[[Moved], None]  # after each batch


def rotate(
    runtime: Runtime, actor: Principal, batch_size: int = BATCH_SIZE, progress: Progress | None = None
) -> list[Moved]:
    """Move every secret to the newest key; audited as ``secrets.rotated``."""
    report = [_rotate_column(runtime, sealed, batch_size, progress) for sealed in SEALED]
    with runtime.sessions.begin() as session:
        record_audit(
            session, actor, "secrets.rotated", f"key {runtime.secrets.key_id}", runtime.clock.now(),
            rows={m.kind: {"moved": m.moved, "current": m.current, "changed": m.changed,
                           "unreadable": m.unreadable} for m in report},
        )  # fmt: skip
    return report


def _rotate_column(runtime: Runtime, sealed: Sealed, batch_size: int, progress: Progress | None) -> Moved:
    moved, after = Moved(sealed.kind), None
    while True:
        with runtime.sessions.begin() as session:
            after = rotate_batch(session, runtime.secrets, sealed, after, batch_size, moved)
        if after is None:
            return moved
        if progress is not None:
            progress(moved)


def rotate_batch(
    session: Session, box: SecretBox, sealed: Sealed, after: int | None, size: int, moved: Moved
) -> int | None:
    """The rows after primary key ``after``, up to ``size`` of them, moved to the newest key and
    counted in ``moved``; the last key seen (None: no row was left)."""
    key = sealed.model.id
    query = select(sealed.model).where(sealed.column.is_not(None)).order_by(key).limit(size)
    rows = list(session.scalars(query if after is None else query.where(key > after)))
    for row in rows:
        blob = sealed.blob(row)
        assert blob is not None
        if box.is_current(blob):
            moved.current += 1
            continue
        context = sealed.context(row)
        try:
            plaintext = box.decrypt(blob, context)
        except SecretError:
            moved.unreadable += 1
            continue
        written = session.execute(
            update(sealed.model)
            .where(key == row.id, sealed.column == blob)
            .values({sealed.column: box.encrypt(plaintext, context)})
            .execution_options(synchronize_session=False)
        )
        if getattr(written, "rowcount", 0):
            moved.moved += 1
        else:
            moved.changed += 1
    return rows[-1].id if rows else None
