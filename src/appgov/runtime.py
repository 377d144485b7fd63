"""Everything a process of appgov wires together once: settings, the migrated database, secrets.

A process starts only with a keyring that reads the database's secrets (CS-03): every key the
stored secrets name must be in it and be the key that wrote them (checked against the key's check
row, ``SecretKeyCheck``), else ``SecretsLocked`` says why and what to do. Without any configured
key a new install makes its key file (0600); a database that already holds secrets never gets a
new key silently. The data directory is made 0700, and the SQLite file 0600 (storage.db).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from appgov.clock import Clock, SystemClock
from appgov.config import Settings
from appgov.security.secrets import KeyringError, SecretBox, SecretError, new_key
from appgov.storage.db import make_engine, migrate, session_factory
from appgov.storage.models import SecretKeyCheck
from appgov.storage.sealed import SEALED, key_check_context, key_ids_in_use

KEY_FILE = "secret.key"
KEY_CHECK = "appgov key check"


class SecretsLocked(Exception):
    """This process's keyring cannot read the database's secrets: it must not start."""


def worker_id() -> str:
    """This process, as leases and claims name their holder: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    secrets: SecretBox
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def start(cls, settings: Settings | None = None) -> Runtime:
        settings = settings or Settings.from_env()
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = make_engine(settings.database_url)
        migrate(engine)
        sessions = session_factory(engine)
        clock = SystemClock()
        return cls(settings, engine, sessions, open_keyring(settings, sessions, clock), clock)

    @property
    def verify(self) -> str | bool:
        return self.settings.ca_bundle or True


def open_keyring(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> SecretBox:
    """The configured keyring, checked against the database's secrets (CS-03)."""
    with sessions() as session:
        in_use = key_ids_in_use(session)
    box, where = _configured(settings, in_use)
    missing = sorted(in_use - set(box.key_ids))
    if missing:
        raise SecretsLocked(
            f"the database holds secrets encrypted with key {_ids(missing)}, which {where} does not "
            "hold: add that key to the keyring (APPGOV_SECRET_KEYS, newest first) and start again"
        )
    try:
        _check_keys(sessions, box, in_use, where, clock)
    except IntegrityError:  # another process starting at the same time wrote a check row first
        _check_keys(sessions, box, in_use, where, clock)
    return box


def configured_keyring(settings: Settings) -> tuple[SecretBox, str] | None:
    """The keyring the settings or the key file hold, and where it came from; None: no key yet."""
    try:
        if settings.secret_keys:
            return SecretBox.parse(settings.secret_keys), "APPGOV_SECRET_KEYS"
        if settings.secret_key:
            return SecretBox.parse(settings.secret_key), "APPGOV_SECRET_KEY"
        path = settings.data_dir / KEY_FILE
        if path.exists():
            return SecretBox.parse(path.read_text()), str(path)
    except KeyringError as err:
        raise SecretsLocked(f"the secret keyring cannot be read: {err}") from None
    return None


def _configured(settings: Settings, in_use: set[int]) -> tuple[SecretBox, str]:
    """The configured keyring; a new key file only when no stored secret needs an older key."""
    configured = configured_keyring(settings)
    if configured is not None:
        return configured
    path = settings.data_dir / KEY_FILE
    if in_use:
        raise SecretsLocked(
            f"{path} is missing, but the database holds secrets encrypted with key {_ids(sorted(in_use))}: "
            "restore the key file from the backup taken with the database (or set APPGOV_SECRET_KEYS). "
            "appgov does not make a new key, which would leave every stored secret unreadable"
        )
    return SecretBox.parse(_new_key_file(path)), str(path)


def _new_key_file(path: Path) -> str:
    """A new key file, 0600, written whole before it takes its name: processes starting together
    all end up with the one that got there first."""
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"1:{new_key()}\n")
    try:
        os.link(draft, path)  # fails if the name is taken: never over another process's key
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text()


def _check_keys(
    sessions: sessionmaker[Session], box: SecretBox, in_use: set[int], where: str, clock: Clock
) -> None:
    with sessions.begin() as session:
        for key_id in box.key_ids:
            _check_key(session, box, key_id, key_id in in_use, where, clock)


def _check_key(session: Session, box: SecretBox, key_id: int, in_use: bool, where: str, clock: Clock) -> None:
    """Refuse a key that is not the one the secrets it names were written with; record a check for
    a key that has none (a new key, or secrets written before key checks existed)."""
    row = session.get(SecretKeyCheck, key_id)
    if row is not None and _reads(box, row.verifier, key_check_context(key_id)):
        return
    if in_use and (row is not None or not _reads_a_secret(session, box, key_id)):
        raise SecretsLocked(
            f"key {key_id} in {where} is not the key that encrypted the database's secrets with that "
            "id: configure the key the database was used with (from the backup of the key file or "
            "APPGOV_SECRET_KEYS); appgov does not start with secrets it cannot read"
        )
    verifier = box.encrypt_with(key_id, KEY_CHECK, key_check_context(key_id))
    if row is None:  # otherwise: a stale check, of a key no stored secret names any longer
        session.add(SecretKeyCheck(key_id=key_id, verifier=verifier, created_at=clock.now()))
    else:
        row.verifier, row.created_at = verifier, clock.now()


def _reads(box: SecretBox, blob: bytes, context: str) -> bool:
    try:
        box.decrypt(blob, context)
    except SecretError:
        return False
    return True


def _reads_a_secret(session: Session, box: SecretBox, key_id: int) -> bool:
    """Whether any stored secret the key names decrypts with it (one corrupted row proves nothing)."""
    for sealed in SEALED:
        for row in session.scalars(select(sealed.model).where(sealed.column.is_not(None))):
            blob = sealed.blob(row)
            if blob is not None and blob[1] == key_id and _reads(box, blob, sealed.context(row)):
                return True
    return False


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids)
