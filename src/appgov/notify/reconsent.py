"""Telling people a grant's consent is ending. Atlassian ends a token family 365 days after the
consent that started it, however often appgov refreshes it; only a new consent (Reconnect) renews
it. For one grant and deadline, in the caller's transaction: a notification per user, and an email
to each admin who connected one of the grant's domains (through the outbox, keyed per grant,
deadline and recipient, so each exists once)."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from datetime import datetime

from sqlalchemy.orm import Session

from appgov.config import Settings
from appgov.integrations.status import reconsent_reason
from appgov.notify.events import connected_by, notify_everyone, plain
from appgov.notify.outbox import queue_email
from appgov.storage.models import Domain, OAuthGrant

log = logging.getLogger(__name__)
KIND = "reconsent_needed"


def reconsent_needed(
    session: Session,
    settings: Settings,
    grant: OAuthGrant,
    domains: list[Domain],
    deadline: datetime,
    now: datetime,
) -> None:
    """Notify everyone once about the grant's ``domains``; email each of their admins."""
    names = ", ".join(plain(domain.name) for domain in domains)
    notify_everyone(session, domains[0].id, KIND, f"{names}: {reconsent_reason(deadline)}", now)
    for admin, theirs in _by_admin(session, domains).items():
        mine = ", ".join(plain(domain.name) for domain in theirs)
        subject = f"appgov: reconnect {mine} before {deadline:%Y-%m-%d}"
        body = reconsent_body(settings, grant, mine, deadline)
        queue_email(session, dedupe_key(grant.id, deadline, admin), admin, subject, body, now)


def reconsent_body(settings: Settings, grant: OAuthGrant, names: str, deadline: datetime) -> str:
    by = f" by {plain(grant.account_email)}" if grant.account_email else ""
    return (
        f"Atlassian ends appgov's access to {names} on {deadline:%Y-%m-%d %H:%M} UTC: a consent "
        "lasts 365 days, however often appgov refreshes its tokens.\n\n"
        "Reconnect before then: on appgov's Integrations page, Reconnect next to the domain, then "
        "accept on Atlassian's consent page.\n\n"
        f"{settings.public_url}/integrations\n\n"
        f"The consent was given on {grant.consented_at:%Y-%m-%d}{by}.\n"
    )


def dedupe_key(grant_id: int, deadline: datetime, admin: str) -> str:
    """Per grant, deadline and recipient; the address hashed, as it may be longer than the key."""
    recipient = hashlib.sha256(admin.lower().encode()).hexdigest()[:16]
    return f"reconsent-needed:{grant_id}:{deadline:%Y-%m-%d}:{recipient}"


def _by_admin(session: Session, domains: list[Domain]) -> dict[str, list[Domain]]:
    """The domains each admin connected; one added from the command line has no email address."""
    admins: dict[str, list[Domain]] = defaultdict(list)
    for domain in domains:
        address = connected_by(session, domain)
        if address is not None:
            admins[address].append(domain)
        else:
            log.info(
                "domain %s needs a re-consent; %r who added it has no email", domain.id, domain.created_by
            )
    return admins
