"""OAuth grants at rest and in use: one grant per Atlassian account, covering several domains.

- Tokens are encrypted, bound to their grant row.
- **Exactly one refresh per grant** however many processes and threads need one at once (OA-05): a
  lock on the grant row taken with a conditional UPDATE; the others wait and re-read. The lock
  expires, so a holder that died never wedges the grant (OA-06).
- Rotated tokens are written in the same transaction that releases the lock, and a refresh answer
  without a refresh token keeps the stored one (OA-04).
- Access tokens are refreshed ahead of expiry (OA-09); a 401 on a token the store still holds forces
  one refresh.
- A refresh the authorization server refuses marks the grant *expired* with the reason: the domain
  then says "Grant expired" until an admin reconnects.
- **A refresh is never replayed.** When the refresh POST gets no definite answer (a timeout, a
  reset after sending, a 5xx: the server may have rotated the refresh token and lost the answer),
  the grant is read again from the database, where a reconnect may have stored a new pair, which is
  then used. If nothing changed, no process ever sends that refresh token again: still holding the
  grant's lock, the refresh marks the grant expired (``refresh_unconfirmed``), and an admin
  reconnects, as for any other expired grant.
- Every consent restarts Atlassian's 365-day clock (a new token family): ``consented_at`` records it,
  and clears the warning that the old family's end was near (workers.grant_upkeep). Past those 365
  days the grant is expired without asking Atlassian: no refresh token of it is ever sent again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Generator
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from appgov.clock import Clock, SystemClock
from appgov.connectors.atlassian.client import AtlassianClient, AtlassianError, Unconfirmed
from appgov.connectors.atlassian.oauth import AuthorizationServer, GrantGone, TokenSet
from appgov.connectors.base import CredentialsRejected
from appgov.outcomes import Code, Outcome
from appgov.runtime import worker_id
from appgov.security.secrets import SecretBox
from appgov.storage.models import OAuthGrant
from appgov.storage.sealed import grant_context

REFRESH_AHEAD = timedelta(minutes=5)
CONSENT_LIFETIME = timedelta(days=365)  # Atlassian's limit on a token family, from its consent
# after a refresh without a definite answer: well inside Atlassian's 10-minute reuse leeway (a
# refresh token that did rotate still works once then), so a lost answer does not cost the grant
LOCK_TTL = timedelta(seconds=30)
WAIT_STEP = 0.05

log = logging.getLogger(__name__)


class GrantUnusable(CredentialsRejected):
    """The grant is expired or revoked; its reason is in words for the Integrations page."""


def consent_ends(grant: OAuthGrant) -> datetime:
    """When Atlassian ends the grant's live token family: 365 days after its consent."""
    return grant.consented_at + CONSENT_LIFETIME


def store_grant(
    sessions: sessionmaker[Session],
    secrets: SecretBox,
    client_id: str,
    account_id: str,
    account_email: str | None,
    tokens: TokenSet,
    now: datetime,
) -> OAuthGrant:
    """Create or renew the account's grant (a new consent replaces its tokens, starts a new token
    family and revives it)."""
    with sessions.begin() as session:
        grant = session.query(OAuthGrant).filter_by(client_id=client_id, account_id=account_id).one_or_none()
        if grant is None:
            grant = OAuthGrant(
                client_id=client_id, account_id=account_id, created_at=now, consented_at=now, scopes=[]
            )
            session.add(grant)
            session.flush()
        grant.consented_at, grant.reconsent_warned_at = now, None
        grant.account_email = account_email or grant.account_email
        grant.scopes = tokens.scopes
        grant.access_token = secrets.encrypt(tokens.access_token, grant_context(grant.id, "access"))
        if tokens.refresh_token:
            grant.refresh_token = secrets.encrypt(tokens.refresh_token, grant_context(grant.id, "refresh"))
        grant.access_expires_at, grant.refreshed_at = tokens.expires_at, now
        grant.status, grant.status_reason = "active", None
        grant.refresh_lock_owner = grant.refresh_lock_expires_at = None
        return grant


class GrantTokens:
    """The live access token of one grant, refreshed as needed, shared safely across processes."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        secrets: SecretBox,
        grant_id: int,
        server: AuthorizationServer,
        *,
        clock: Clock | None = None,
        owner: str | None = None,
        wait_limit: float = 60.0,
    ) -> None:
        self.sessions, self.secrets, self.grant_id, self.server = sessions, secrets, grant_id, server
        self.clock = clock or SystemClock()
        self.owner = owner or f"{worker_id()}:{random.getrandbits(32):08x}"  # threads of one process differ
        self.wait_limit = wait_limit
        self._local = asyncio.Lock()

    async def access_token(self, rejected: str | None = None) -> str:
        """A token valid for a while yet; ``rejected``: one Atlassian just refused (refresh it)."""
        async with self._local:
            waited = 0.0
            while True:
                token = self._usable(rejected)
                if token is not None:
                    return token
                if self._lock():
                    refreshed = await self._refresh_locked(rejected)
                    if refreshed is not None:
                        return refreshed
                    continue  # unconfirmed, and a reconnect stored a new pair meanwhile: use it
                if waited > self.wait_limit:
                    raise AtlassianError(
                        "timed out waiting for another process to refresh the grant",
                        outcome=Outcome(Code.REFRESH_TIMED_OUT),
                    )
                await asyncio.sleep(WAIT_STEP)
                waited += WAIT_STEP

    def _load(self) -> OAuthGrant:
        with self.sessions() as session:
            return session.get_one(OAuthGrant, self.grant_id)

    def _usable(self, rejected: str | None) -> str | None:
        grant = self._load()
        if grant.status != "active":
            code = Code.CONSENT_REVOKED if grant.status == "revoked" else Code.GRANT_EXPIRED
            raise GrantUnusable(
                grant.status_reason or f"the grant is {grant.status}",
                outcome=Outcome(code, {"detail": grant.status_reason or ""}),
            )
        ended = consent_ends(grant)
        if ended <= self.clock.now():
            outcome = Outcome(Code.GRANT_EXPIRED, {"on": ended.isoformat()})
            raise GrantUnusable(outcome.text, outcome=outcome)
        if grant.access_token is None or grant.access_expires_at is None:
            return None
        token = self.secrets.decrypt(grant.access_token, grant_context(grant.id, "access"))
        fresh = grant.access_expires_at - self.clock.now() > REFRESH_AHEAD
        return token if fresh and token != rejected else None

    def _lock(self) -> bool:
        now = self.clock.now()
        with self.sessions.begin() as session:
            taken = session.execute(
                update(OAuthGrant)
                .where(OAuthGrant.id == self.grant_id)
                .where(OAuthGrant.refresh_lock_owner.is_(None) | (OAuthGrant.refresh_lock_expires_at < now))
                .values(refresh_lock_owner=self.owner, refresh_lock_expires_at=now + LOCK_TTL)
            )
            return bool(getattr(taken, "rowcount", 0))

    async def _refresh_locked(self, rejected: str | None) -> str | None:
        """The new access token; None when the refresh went unconfirmed (look at the grant again)."""
        try:
            token = self._usable(rejected)  # someone may have refreshed between our read and our lock
            if token is not None:
                return token
            grant = self._load()
            if grant.refresh_token is None:
                raise GrantGone("the grant has no refresh token (offline_access was not granted)")
            sent = self._refresh_token(grant.refresh_token)
            tokens = await self.server.refresh(sent)
        except GrantGone as gone:
            self._release(status="expired", reason=f"Grant expired: {gone}")
            expired = Outcome(Code.GRANT_EXPIRED, {"detail": str(gone)})
            raise GrantUnusable(f"Grant expired: {gone}", outcome=expired) from None
        except Unconfirmed as unknown:
            log.warning("grant %s: %s", self.grant_id, unknown)
            if self._give_up(sent):
                outcome = Outcome(Code.REFRESH_UNCONFIRMED)
                raise GrantUnusable(outcome.text, unknown.status, unknown.url, outcome=outcome) from None
            return None
        except BaseException:
            self._release()
            raise
        self._release(tokens=tokens)
        return tokens.access_token

    def _refresh_token(self, sealed: bytes) -> str:
        return self.secrets.decrypt(sealed, grant_context(self.grant_id, "refresh"))

    def _give_up(self, sent: str) -> bool:
        """After an unconfirmed refresh of ``sent``: True when the grant still holds it (it is marked
        expired, never to be sent again); False when a reconnect stored a new pair meanwhile. The
        tokens are compared, not their ciphertexts, which key rotation re-encrypts (CS-04)."""
        with self.sessions.begin() as session:
            grant = session.get_one(OAuthGrant, self.grant_id)
            ours = grant.refresh_lock_owner == self.owner
            if ours:
                grant.refresh_lock_owner = grant.refresh_lock_expires_at = None
            stored = grant.refresh_token
            if not ours or stored is None or self._refresh_token(stored) != sent:
                return False
            grant.status, grant.status_reason = "expired", Outcome(Code.REFRESH_UNCONFIRMED).text
            return True

    def _release(
        self, tokens: TokenSet | None = None, status: str | None = None, reason: str | None = None
    ) -> None:
        with self.sessions.begin() as session:
            grant = session.get_one(OAuthGrant, self.grant_id)
            if grant.refresh_lock_owner != self.owner:
                return  # our lock expired and another holder took over: write nothing
            if tokens is not None:
                grant.access_token = self.secrets.encrypt(
                    tokens.access_token, grant_context(grant.id, "access")
                )
                if tokens.refresh_token:  # never replace a refresh token by nothing
                    grant.refresh_token = self.secrets.encrypt(
                        tokens.refresh_token, grant_context(grant.id, "refresh")
                    )
                grant.access_expires_at, grant.refreshed_at = tokens.expires_at, self.clock.now()
            if status is not None:
                grant.status, grant.status_reason = status, reason
            grant.refresh_lock_owner = grant.refresh_lock_expires_at = None


class GrantAuth(httpx.Auth):
    """Bearer auth from a grant: refresh ahead of expiry, and once more on a 401 for that token
    (a 401 that says the scope does not match is the data set's answer, not the token's)."""

    def __init__(self, tokens: GrantTokens) -> None:
        self.tokens = tokens

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.tokens.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        await response.aread()
        if "scope does not match" not in response.text:
            token = await self.tokens.access_token(rejected=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


async def accessible_resources(api_url: str, access_token: str, verify: str | bool) -> list[dict[str, Any]]:
    """The sites a fresh token reaches (``/oauth/token/accessible-resources``) and who consented (``/me``)."""
    client = AtlassianClient(api_url, BearerToken(access_token), verify=verify, timeout=30)
    async with client:
        reply = await client.get("/oauth/token/accessible-resources")
    if reply.status != 200 or not isinstance(reply.data, list):
        raise AtlassianError(f"accessible-resources answered HTTP {reply.status}", reply.status, reply.url)
    return [r for r in reply.data if isinstance(r, dict) and r.get("id") and r.get("url")]


async def consenting_account(api_url: str, access_token: str, verify: str | bool) -> dict[str, Any]:
    client = AtlassianClient(api_url, BearerToken(access_token), verify=verify, timeout=30)
    async with client:
        reply = await client.get("/me")
    if reply.status != 200 or not isinstance(reply.data, dict) or not reply.data.get("account_id"):
        raise AtlassianError(f"/me answered HTTP {reply.status}", reply.status, reply.url)
    return reply.data


class BearerToken(httpx.Auth):
    """A fixed bearer token, for the calls made right after a consent."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request
