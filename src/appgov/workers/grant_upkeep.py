"""Grant upkeep, run by the scheduler's pass: OAuth grants kept alive between syncs, and people told
before Atlassian ends them (reliability OA-04 b and c).

- **Idle grants.** Atlassian lets a refresh token die after 90 days unused, and a domain may go that
  long without a sync. Every active grant of a domain last refreshed more than ``grant_refresh_days``
  ago (75) is refreshed through ``GrantTokens``, the one refresh path: its access token (an hour's
  life) expired long ago, so asking for one refreshes, and of two sweeps, or a sweep and a sync,
  exactly one does. A refresh Atlassian refuses marks the grant expired with its reason there.
- **The consent's end.** A token family dies 365 days after the consent that started it, whatever
  the refreshes. Once that is ``expiry_warning_days`` away (status.reconsent_by), each grant's
  users are notified and its domains' admins emailed, once per consent: a conditional UPDATE of
  ``reconsent_warned_at`` takes the turn, and a new consent clears it (grants.store_grant).
- **Unused grants.** An Add abandoned at the site picker leaves a grant no domain uses; once no
  consent in flight can still finish with it, it is deleted with its tokens (secrets appgov no
  longer needs).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from appgov.connectors.atlassian.clients import authorization_server
from appgov.connectors.atlassian.grants import CONSENT_LIFETIME, GrantTokens
from appgov.connectors.atlassian.oauth import AuthorizationServer
from appgov.connectors.atlassian.site_rows import domains_of_grant, used_grants
from appgov.connectors.base import ConnectorError
from appgov.integrations.connect import PICK_TTL
from appgov.integrations.domains import DomainError
from appgov.integrations.status import reconsent_by
from appgov.notify.reconsent import reconsent_needed
from appgov.runtime import Runtime
from appgov.security.secrets import SecretError
from appgov.storage.models import OAuthFlow, OAuthGrant

log = logging.getLogger(__name__)


async def grant_upkeep(runtime: Runtime) -> None:
    """One pass: forget unused grants, refresh the idle ones, then warn of the consents ending soon."""
    forget_unused_grants(runtime)
    await refresh_idle_grants(runtime)
    warn_reconsent(runtime)


def forget_unused_grants(runtime: Runtime) -> int:
    """Delete the grants no domain uses and no consent in flight (younger than the site picker's
    life) may still connect; returns how many went."""
    in_flight = runtime.clock.now() - PICK_TTL
    used = used_grants()
    pending = select(OAuthFlow.grant_id).where(
        OAuthFlow.grant_id.is_not(None), OAuthFlow.created_at > in_flight
    )
    with runtime.sessions.begin() as session:
        gone = session.execute(
            delete(OAuthGrant).where(OAuthGrant.id.not_in(used), OAuthGrant.id.not_in(pending))
        )
    if count := int(getattr(gone, "rowcount", 0) or 0):
        log.info("forgot %d OAuth grant(s) no domain uses", count)
    return count


async def refresh_idle_grants(runtime: Runtime) -> list[int]:
    """Refresh every active grant whose last refresh is older than ``grant_refresh_days``; returns
    the ids of those now fresh (by this sweep or by whoever refreshed them meanwhile)."""
    now = runtime.clock.now()
    cutoff = now - timedelta(days=runtime.settings.grant_refresh_days)
    with runtime.sessions() as session:
        idle = select(OAuthGrant.id).where(
            OAuthGrant.status == "active",
            OAuthGrant.consented_at > now - CONSENT_LIFETIME,  # an ended consent is never refreshed
            or_(OAuthGrant.refreshed_at.is_(None), OAuthGrant.refreshed_at < cutoff),
            OAuthGrant.id.in_(used_grants()),  # not one of an Add left unfinished
        )
        grant_ids = list(session.scalars(idle.order_by(OAuthGrant.id)))
    if not grant_ids:
        return []
    try:
        server = authorization_server(runtime)
    except DomainError as err:  # grants stored, then the OAuth app's settings removed
        log.warning("idle grants %s cannot be refreshed: %s", grant_ids, err)
        return []
    try:
        return [grant_id for grant_id in grant_ids if await _refresh(runtime, server, grant_id)]
    finally:
        await server.aclose()


async def _refresh(runtime: Runtime, server: AuthorizationServer, grant_id: int) -> bool:
    tokens = GrantTokens(runtime.sessions, runtime.secrets, grant_id, server, clock=runtime.clock)
    try:
        await tokens.access_token()
    # refused (GrantTokens marked the grant expired), unreachable, or unconfirmed (the next pass); or
    # a token that no longer decrypts (the domain's next sync fails and says so: CS-02)
    except (ConnectorError, SecretError) as err:
        log.warning("grant %s was not refreshed: %s", grant_id, err)
        return False
    return True


def warn_reconsent(runtime: Runtime) -> int:
    """Notify and email once per grant whose consent ends soon; returns how many were warned now."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        unwarned = select(OAuthGrant).where(
            OAuthGrant.status == "active",
            OAuthGrant.reconsent_warned_at.is_(None),
            OAuthGrant.id.in_(used_grants()),
        )
        due = [g.id for g in session.scalars(unwarned) if reconsent_by(g, runtime.settings, now)]
    return sum(_warn(runtime, grant_id) for grant_id in due)


def _warn(runtime: Runtime, grant_id: int) -> bool:
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        grant = session.get(OAuthGrant, grant_id)
        deadline = reconsent_by(grant, runtime.settings, now)
        domains = domains_of_grant(session, grant_id)
        if grant is None or deadline is None or not domains:
            return False  # a new consent or a deletion since the read
        taken = session.execute(
            update(OAuthGrant)
            .where(
                OAuthGrant.id == grant_id,
                OAuthGrant.consented_at == grant.consented_at,  # the consent we read: not a newer one
                OAuthGrant.reconsent_warned_at.is_(None),
            )
            .values(reconsent_warned_at=now)
        )
        if not getattr(taken, "rowcount", 0):
            return False  # another pass warned first
        reconsent_needed(session, runtime.settings, grant, domains, deadline, now)
        return True
