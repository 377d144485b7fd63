"""Telling the admins an API token is about to expire (reliability CS-08). Atlassian does not say
when a token expires; its owner may enter the date (``ApiToken.expires_at``), and from
``expiry_warning_days`` before it, once per token and date, in the caller's transaction: a
notification per admin, and an email to the admin who connected the domain (through the outbox,
keyed per token, date and recipient, so each exists once). The OAuth grant's end is announced by
``notify.reconsent``."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from appgov.accounts.permissions import Role
from appgov.config import Settings
from appgov.notify.events import connected_by, notify_everyone, plain
from appgov.notify.outbox import queue_email
from appgov.storage.models import ApiToken, Domain

KIND = "api_token_expiring"


def api_token_expiring(
    session: Session, settings: Settings, token: ApiToken, domain: Domain, expires_at: datetime, now: datetime
) -> None:
    name = plain(domain.name)
    text = f"{name}: the API token of {plain(token.owner_email)} expires on {expires_at:%Y-%m-%d}: replace it"
    notify_everyone(session, domain.id, KIND, text, now, role=Role.ADMIN)
    admin = connected_by(session, domain)
    if admin is None:
        return  # added from the command line: no email address
    recipient = hashlib.sha256(admin.lower().encode()).hexdigest()[:16]
    key = f"api-token-expiring:{token.id}:{expires_at:%Y-%m-%d}:{recipient}"
    body = (
        f"The API token appgov reads {name} ({plain(domain.site_url)}) with expires on "
        f"{expires_at:%Y-%m-%d}. From then on appgov cannot sync {name}.\n\n"
        "Create a new API token at Atlassian, then on appgov's Integrations page use Edit API key "
        f"next to the domain.\n\n{settings.public_url}/domains/{domain.id}/api-key\n"
    )
    subject = f"appgov: the API token of {name} expires on {expires_at:%Y-%m-%d}"
    queue_email(session, key, admin, subject, body, now)
