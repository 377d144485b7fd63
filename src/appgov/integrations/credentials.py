"""A domain's credentials and when they end (reliability CS-08).

- **The API token.** Atlassian does not tell an API token's expiry, so whoever gives the token may
  enter its expiry date (console, REST API, CLI); ``ApiToken.expires_at`` keeps it, None when not
  given.
- **The OAuth grant.** Atlassian ends a grant's rotating refresh tokens 365 days after the consent
  that started them, however often they are refreshed: the grant expires then.

Each credential is *valid*, *expires_soon* (within ``expiry_warning_days`` of its end), or *expired*
(a grant Atlassian already refused says so too: *expired* or *revoked*). Once one has expired the
domain's status is Error with ``api_token_expired`` or ``grant_expired``, the scheduler queues no
sync for it, and a sync asked for settles at once without a request (``expired_credential``), until
the token is replaced or the domain reconnected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.config import Settings
from appgov.connectors.atlassian.grants import consent_ends
from appgov.connectors.atlassian.site_rows import grant_of
from appgov.connectors.base import DomainError
from appgov.outcomes import Code, Outcome
from appgov.security.secrets import mask
from appgov.storage.models import ApiToken, OAuthGrant

API_TOKEN, OAUTH_GRANT = "api_token", "oauth_grant"
VALID, EXPIRES_SOON, EXPIRED = "valid", "expires_soon", "expired"


@dataclass(frozen=True)
class Credential:
    kind: str  # api_token | oauth_grant
    masked: str  # the token masked to its last four characters; the grant: who consented
    expires_at: datetime | None  # None: not known (an API token given without its expiry date)
    state: str  # valid | expires_soon | expired (| revoked, a grant Atlassian refused)

    @property
    def name(self) -> str:
        return "API token" if self.kind == API_TOKEN else "OAuth consent"

    @property
    def note(self) -> str | None:
        """``expires soon``, ``expired`` (``revoked``) in words; None while valid."""
        return None if self.state == VALID else self.state.replace("_", " ")


def expiry_of(day: date | None) -> datetime | None:
    """An expiry date as entered: the token stops working at the start of that day (UTC)."""
    return datetime.combine(day, time(), UTC) if day is not None else None


def check_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    """A new expiry date must still lie ahead."""
    if expires_at is not None and expires_at <= now:
        raise DomainError(f"the API token's expiry date {expires_at:%Y-%m-%d} is not in the future")
    return expires_at


def _state(expires_at: datetime | None, settings: Settings, now: datetime) -> str:
    if expires_at is None or now < expires_at - timedelta(days=settings.expiry_warning_days):
        return VALID
    return EXPIRED if now >= expires_at else EXPIRES_SOON


def credentials(
    token: ApiToken | None, grant: OAuthGrant | None, settings: Settings, now: datetime
) -> tuple[Credential, ...]:
    """The domain's credentials, as the domain page, the Integrations list and the REST API show them."""
    found = []
    if token is not None:
        masked = mask("x" * 12 + token.last4)
        found.append(Credential(API_TOKEN, masked, token.expires_at, _state(token.expires_at, settings, now)))
    if grant is not None:
        ends = consent_ends(grant)
        state = _state(ends, settings, now) if grant.status == "active" else grant.status
        found.append(Credential(OAUTH_GRANT, grant.account_email or grant.account_id, ends, state))
    return tuple(found)


def expired(token: ApiToken | None, grant: OAuthGrant | None, now: datetime) -> Outcome | None:
    """Why the domain cannot be read any more because a credential's time is up; None if none is."""
    if token is not None and token.expires_at is not None and token.expires_at <= now:
        return Outcome(Code.API_TOKEN_EXPIRED, {"on": token.expires_at.isoformat()})
    if grant is not None and grant.status == "active" and consent_ends(grant) <= now:
        return Outcome(Code.GRANT_EXPIRED, {"on": consent_ends(grant).isoformat()})
    return None


def expired_credential(session: Session, domain_id: int, now: datetime) -> Outcome | None:
    """``expired`` for one domain: the scheduler and the sync service ask before any request."""
    token = session.scalar(select(ApiToken).where(ApiToken.domain_id == domain_id))
    grant_id = grant_of(session, domain_id)
    grant = session.get(OAuthGrant, grant_id) if grant_id is not None else None
    return expired(token, grant, now)
