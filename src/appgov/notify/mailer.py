"""The mail sender: sends due outbox rows over SMTP (``smtplib`` in a thread, STARTTLS and login
when configured) and marks each sent only after the server accepted it.

Delivery is at least once: a crash between the server's acceptance and the ``sent_at`` commit sends
that message again once its claim lapses. The outbox row itself is unique per event.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from appgov.config import Settings
from appgov.notify import outbox
from appgov.runtime import Runtime
from appgov.storage.models import OutboxMessage

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 30.0


class MailSender:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._said_unconfigured = False

    async def send_due(self) -> int:
        """Send every due message once; returns how many the SMTP server accepted."""
        settings = self.runtime.settings
        if not settings.smtp_host:
            if not self._said_unconfigured:
                log.warning("no SMTP host configured (APPGOV_SMTP_HOST): email stays queued in the outbox")
                self._said_unconfigured = True
            return 0
        with self.runtime.sessions() as session:
            ids = outbox.due_ids(session, self.runtime.clock.now())
        sent = 0
        for message_id in ids:
            sent += await self._send_one(message_id)
        return sent

    async def _send_one(self, message_id: int) -> int:
        with self.runtime.sessions.begin() as session:
            message = outbox.claim(session, message_id, self.runtime.clock.now())
        if message is None:
            return 0  # another sender took it, or it was sent meanwhile
        try:
            await asyncio.to_thread(deliver, to_email(message, self.runtime.settings), self.runtime.settings)
        except (OSError, ValueError, smtplib.SMTPException) as err:
            log.warning("email %s not sent: %s", message_id, err)
            with self.runtime.sessions.begin() as session:
                now = self.runtime.clock.now()
                outbox.mark_failed(session, message_id, f"{type(err).__name__}: {err}", now)
            return 0
        with self.runtime.sessions.begin() as session:
            outbox.mark_sent(session, message_id, self.runtime.clock.now())
        return 1


def to_email(message: OutboxMessage, settings: Settings) -> EmailMessage:
    """Plain text only: upstream text in it is never interpreted as HTML."""
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to_addr
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    email.set_content(message.body)
    return email


def deliver(email: EmailMessage, settings: Settings) -> None:
    """One SMTP conversation (blocking: run it in a thread)."""
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=tls_context(settings))
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(email)


def tls_context(settings: Settings) -> ssl.SSLContext:
    """The system's CAs, plus the extra CA file appgov is configured with, if any."""
    context = ssl.create_default_context()
    if settings.ca_bundle:
        context.load_verify_locations(cafile=settings.ca_bundle)
    return context
