"""Everything a process of appgov wires together once: settings, the migrated database, secrets."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from appgov.clock import Clock, SystemClock
from appgov.config import Settings
from appgov.security.secrets import SecretBox
from appgov.storage.db import make_engine, migrate, session_factory


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
        engine = make_engine(settings.database_url)
        migrate(engine)
        return cls(
            settings,
            engine,
            session_factory(engine),
            SecretBox.from_settings(settings.secret_key, settings.data_dir),
        )

    @property
    def verify(self) -> str | bool:
        return self.settings.ca_bundle or True
