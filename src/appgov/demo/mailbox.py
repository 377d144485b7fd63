"""The demo's own mail server: a local SMTP server (aiosmtpd) that writes every message appgov sends
as an ``.eml`` file in one folder, so the "domain is ready" email can be read without a real mail
server. Only ``appgov demo`` starts it; ``appgov serve`` sends to the SMTP host it is configured with."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


class _MailboxHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.content
        subject = str(message_from_bytes(content, policy=policy.default).get("Subject", ""))
        number = len(list(self.folder.glob("*.eml"))) + 1
        slug = re.sub(r"[^a-z0-9]+", "-", subject.lower()).strip("-")[:60] or "message"
        (self.folder / f"{number:04d}-{slug}.eml").write_bytes(content)
        return "250 Message accepted for delivery"


class DemoMailbox:
    """An SMTP server on ``HOST:port`` whose messages land in ``folder``, numbered in arrival order."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.folder = folder
        self.port = port or _free_port()
        self._controller = Controller(_MailboxHandler(folder), hostname=HOST, port=self.port)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def read_mailbox(folder: Path) -> list[tuple[Path, EmailMessage]]:
    """Every message in the folder, oldest first, parsed."""
    messages = []
    for path in sorted(folder.glob("*.eml")):
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append((path, parsed))
    return messages


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])
