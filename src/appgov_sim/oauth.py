"""OAuth 2.0 (3LO) grants and tokens, with Atlassian's rotation rules (api-facts §1.2-1.3).

- One grant per (client, account); a second consent adds its site to the grant and starts a new
  refresh-token family that replaces the old one.
- Access tokens live 1 hour. Refresh tokens rotate on every use; the previous one keeps working for
  a 10-minute leeway, and reusing it after that revokes the whole family.
- A refresh token expires after 90 days unused; a family dies 365 days after its consent.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from appgov_sim.clock import SimClock

ACCESS_TTL = 3600
REUSE_LEEWAY = 600
INACTIVITY_TTL = 90 * 86_400
ABSOLUTE_TTL = 365 * 86_400
CODE_TTL = 600


class OAuthError(Exception):
    """An error of the token endpoint: ``error`` and ``error_description`` with its status."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


INVALID_REFRESH = OAuthError(403, "invalid_grant", "Unknown or invalid refresh token.")


@dataclass(slots=True)
class Client:
    client_id: str
    client_secret: str
    name: str
    redirect_uris: list[str]


@dataclass(slots=True)
class Grant:
    grant_id: str
    client_id: str
    account_id: str
    cloud_ids: list[str]
    scopes: list[str]
    family: str  # the live refresh-token family
    family_started: float  # consent time of the live family: the 365-day clock
    revoked: bool = False


@dataclass(slots=True)
class RefreshToken:
    token: str
    grant_id: str
    family: str
    issued: float
    used_at: float | None = None  # when it was rotated


@dataclass(slots=True)
class AccessToken:
    token: str
    grant_id: str
    expires: float


@dataclass(slots=True)
class AuthCode:
    code: str
    client_id: str
    account_id: str
    cloud_id: str
    scopes: list[str]
    redirect_uri: str
    expires: float
    used: bool = False


@dataclass
class OAuthStore:
    clock: SimClock
    clients: dict[str, Client] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    refresh_requests: int = 0  # every refresh_token grant request, for "exactly one refresh" tests

    # --- consent and minting -------------------------------------------------------------------

    def issue_code(
        self, client_id: str, account_id: str, cloud_id: str, scopes: list[str], redirect_uri: str
    ) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthCode(
            code, client_id, account_id, cloud_id, scopes, redirect_uri, self.clock.time() + CODE_TTL
        )
        return code

    def consent(
        self, client_id: str, account_id: str, cloud_ids: list[str], scopes: list[str]
    ) -> dict[str, Any]:
        """Record a consent (or a minted grant) and issue a fresh token pair from a new family."""
        grant = self.grant_for(client_id, account_id)
        now = self.clock.time()
        if grant is None or grant.revoked:
            grant = Grant(secrets.token_hex(8), client_id, account_id, [], [], "", now)
            self.grants[grant.grant_id] = grant
        for cloud_id in cloud_ids:
            if cloud_id not in grant.cloud_ids:
                grant.cloud_ids.append(cloud_id)
        grant.scopes = sorted(set(grant.scopes) | set(scopes))
        grant.family = secrets.token_hex(8)  # the new family replaces the old one
        grant.family_started = now
        return self._issue(grant)

    def grant_for(self, client_id: str, account_id: str) -> Grant | None:
        return next(
            (
                g
                for g in self.grants.values()
                if g.client_id == client_id and g.account_id == account_id and not g.revoked
            ),
            None,
        )

    def _issue(self, grant: Grant) -> dict[str, Any]:
        now = self.clock.time()
        access = AccessToken("eyJ" + secrets.token_urlsafe(32), grant.grant_id, now + ACCESS_TTL)
        self.access_tokens[access.token] = access
        body: dict[str, Any] = {
            "access_token": access.token,
            "expires_in": ACCESS_TTL,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
        }
        if "offline_access" in grant.scopes:
            refresh = RefreshToken("v1." + secrets.token_urlsafe(40), grant.grant_id, grant.family, now)
            self.refresh_tokens[refresh.token] = refresh
            body["refresh_token"] = refresh.token
        return body

    # --- the token endpoint --------------------------------------------------------------------

    def authenticate_client(self, client_id: str | None, client_secret: str | None) -> Client:
        client = self.clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client.client_secret, client_secret or ""):
            raise OAuthError(401, "access_denied", "Unauthorized")
        return client

    def exchange_code(self, client: Client, code: str | None, redirect_uri: str | None) -> dict[str, Any]:
        record = self.codes.get(code or "")
        if record is None or record.used or record.client_id != client.client_id:
            raise OAuthError(403, "invalid_grant", "Invalid authorization code")
        if record.expires < self.clock.time():
            raise OAuthError(403, "invalid_grant", "Authorization code has expired")
        if redirect_uri != record.redirect_uri:
            raise OAuthError(403, "invalid_grant", "redirect_uri does not match the authorization request")
        record.used = True
        return self.consent(client.client_id, record.account_id, [record.cloud_id], record.scopes)

    def refresh(self, client: Client, token: str | None) -> dict[str, Any]:
        self.refresh_requests += 1
        record = self.refresh_tokens.get(token or "")
        grant = self.grants.get(record.grant_id) if record else None
        if record is None or grant is None or grant.revoked or grant.client_id != client.client_id:
            raise INVALID_REFRESH
        now = self.clock.time()
        if record.family != grant.family or now - grant.family_started > ABSOLUTE_TTL:
            raise INVALID_REFRESH
        if now - record.issued > INACTIVITY_TTL:
            raise INVALID_REFRESH
        if record.used_at is not None and now - record.used_at > REUSE_LEEWAY:
            self.revoke_family(grant)  # reuse outside the leeway: assume theft
            raise INVALID_REFRESH
        if record.used_at is None:
            record.used_at = now
        return self._issue(grant)

    # --- the gateway and the control API -------------------------------------------------------

    def access(self, token: str) -> tuple[Grant, AccessToken] | None:
        """The live grant behind a bearer token, or None (unknown, expired or revoked)."""
        access = self.access_tokens.get(token)
        if access is None or access.expires < self.clock.time():
            return None
        grant = self.grants.get(access.grant_id)
        if grant is None or grant.revoked:
            return None
        return grant, access

    def revoke_family(self, grant: Grant) -> None:
        grant.family = secrets.token_hex(8)  # orphans every refresh token of the old family
        for token in [t for t, a in self.access_tokens.items() if a.grant_id == grant.grant_id]:
            del self.access_tokens[token]

    def revoke_grant(self, grant_id: str) -> bool:
        grant = self.grants.get(grant_id)
        if grant is None:
            return False
        grant.revoked = True
        self.revoke_family(grant)
        return True

    def expire_access_tokens(self, grant_id: str | None = None) -> int:
        now = self.clock.time()
        hit = [a for a in self.access_tokens.values() if grant_id in (None, a.grant_id)]
        for a in hit:
            a.expires = now - 1
        return len(hit)

    # --- persistence ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "clients": [asdict(c) for c in self.clients.values()],
            "grants": [asdict(g) for g in self.grants.values()],
            "refresh_tokens": [asdict(r) for r in self.refresh_tokens.values()],
            "access_tokens": [asdict(a) for a in self.access_tokens.values()],
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self.clients = {c["client_id"]: Client(**c) for c in data.get("clients", [])}
        self.grants = {g["grant_id"]: Grant(**g) for g in data.get("grants", [])}
        self.refresh_tokens = {r["token"]: RefreshToken(**r) for r in data.get("refresh_tokens", [])}
        self.access_tokens = {a["token"]: AccessToken(**a) for a in data.get("access_tokens", [])}
