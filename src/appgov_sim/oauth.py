"""OAuth 2.0 (3LO) grants and tokens, with Atlassian's rotation rules (references §1.2-1.3).

- One grant per (client, account); a second consent adds its site to the grant and starts a new
  refresh-token family that replaces the old one.
- Access tokens live 1 hour. Refresh tokens rotate on every use; the previous one keeps working for
  a 10-minute leeway, and reusing it after that revokes the whole family.
- A refresh token expires after 90 days unused; a family dies 365 days after its consent.
- Authorization codes are single-use and live 10 minutes; a code sent with a PKCE challenge needs
  the matching verifier.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from appgov_sim.clock import SimClock

ACCESS_TTL = 3600
REUSE_LEEWAY = 600
INACTIVITY_TTL = 90 * 86_400
ABSOLUTE_TTL = 365 * 86_400
CODE_TTL = 600
SESSION_TTL = 3600  # a browser sign-in lasts an hour of simulated time
MAX_SESSIONS = 10_000  # oldest sessions are forgotten first, so anonymous traffic cannot grow memory
MAX_PENDING = 20  # authorization requests one browser session may have open at once
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


class OAuthError(Exception):
    """An error of the token endpoint: ``error`` and ``error_description`` with its status."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


INVALID_REFRESH = OAuthError(403, "invalid_grant", "Unknown or invalid refresh token.")
INVALID_CODE = OAuthError(403, "invalid_grant", "Invalid authorization code")


def redirect_uri_problem(uri: str) -> str | None:
    """Why a redirect URI cannot be registered, or None: https only, except the loopback hosts."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        return "a redirect URI must not contain a fragment"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    return "a redirect URI must use https (plain http is allowed only for 127.0.0.1 and localhost)"


def s256(verifier: str) -> str:
    """The PKCE S256 transform: base64url(sha256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(slots=True)
class Client:
    client_id: str
    client_secret: str
    name: str
    redirect_uris: list[str]

    def __post_init__(self) -> None:
        # the developer console refuses to save such a callback, so the simulator refuses to start
        for uri in self.redirect_uris:
            problem = redirect_uri_problem(uri)
            if problem is not None:
                raise ValueError(f"redirect URI {uri!r} refused: {problem}")


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
    created: float = 0.0


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
    code_challenge: str | None = None
    used: bool = False
    family: str | None = None  # the family its exchange started, revoked if the code is replayed


@dataclass(slots=True)
class AuthRequest:
    """A validated ``/authorize`` request waiting for the browser to sign in and decide."""

    client_id: str
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str | None


@dataclass(slots=True)
class Session:
    """A browser's server-side session: its anti-CSRF token, who signed in, its open requests."""

    session_id: str
    csrf: str
    last_seen: float
    account_id: str | None = None
    pending: OrderedDict[str, AuthRequest] = field(default_factory=OrderedDict)


@dataclass
class OAuthStore:
    clock: SimClock
    clients: dict[str, Client] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    sessions: OrderedDict[str, Session] = field(default_factory=OrderedDict)
    refresh_requests: int = 0  # every refresh_token grant request, for "exactly one refresh" tests

    # --- browser sessions ----------------------------------------------------------------------

    def session(self, session_id: str | None) -> Session | None:
        """The live session behind a cookie value, or None (unknown or idle too long)."""
        found = self.sessions.get(session_id or "")
        if found is None or self.clock.time() - found.last_seen > SESSION_TTL:
            return None
        found.last_seen = self.clock.time()
        self.sessions.move_to_end(found.session_id)
        return found

    def new_session(self, carried: Session | None = None) -> Session:
        """A fresh session id; ``carried`` keeps its open requests (a new id at sign-in stops fixation)."""
        if carried is not None:
            self.sessions.pop(carried.session_id, None)
        fresh = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock.time())
        if carried is not None:
            fresh.pending = carried.pending
        self.sessions[fresh.session_id] = fresh
        while len(self.sessions) > MAX_SESSIONS:
            self.sessions.popitem(last=False)
        return fresh

    @staticmethod
    def open_request(session: Session, request: AuthRequest) -> str:
        request_id = secrets.token_urlsafe(16)
        session.pending[request_id] = request
        while len(session.pending) > MAX_PENDING:
            session.pending.popitem(last=False)
        return request_id

    # --- consent and minting -------------------------------------------------------------------

    def issue_code(self, request: AuthRequest, account_id: str, cloud_id: str) -> str:
        code = secrets.token_urlsafe(24)
        self.codes = {c: r for c, r in self.codes.items() if r.expires >= self.clock.time()}
        self.codes[code] = AuthCode(
            code,
            request.client_id,
            account_id,
            cloud_id,
            request.scopes,
            request.redirect_uri,
            self.clock.time() + CODE_TTL,
            request.code_challenge,
        )
        return code

    def consent(
        self, client_id: str, account_id: str, cloud_ids: list[str], scopes: list[str]
    ) -> dict[str, Any]:
        """Record a consent (or a minted grant) and issue a fresh token pair from a new family."""
        grant = self.grant_for(client_id, account_id)
        now = self.clock.time()
        if grant is None:
            grant = Grant(secrets.token_hex(8), client_id, account_id, [], [], "", now, created=now)
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
        # expired access tokens can never work again: forget them so long refresh runs stay small
        self.access_tokens = {t: a for t, a in self.access_tokens.items() if a.expires >= now}
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

    def client(self, client_id: str | None) -> Client | None:
        return next((c for c in self.clients.values() if c.client_id == client_id), None)

    def authenticate_client(self, client_id: str | None, client_secret: str | None) -> Client:
        client = self.client(client_id)
        if client is None or not secrets.compare_digest(
            client.client_secret.encode(), (client_secret or "").encode()
        ):
            raise OAuthError(401, "access_denied", "Unauthorized")
        return client

    def exchange_code(
        self, client: Client, code: str | None, redirect_uri: str | None, verifier: str | None
    ) -> dict[str, Any]:
        record = self.codes.get(code or "")
        if record is None or record.client_id != client.client_id:
            raise INVALID_CODE
        if record.used:
            self._revoke_replayed(record)
            raise INVALID_CODE
        if record.expires < self.clock.time():
            raise OAuthError(403, "invalid_grant", "Authorization code has expired")
        if redirect_uri != record.redirect_uri:
            raise OAuthError(403, "invalid_grant", "redirect_uri does not match the authorization request")
        if (record.code_challenge is None) != (verifier is None) or (
            verifier is not None
            and not secrets.compare_digest(s256(verifier).encode(), (record.code_challenge or "").encode())
        ):
            raise OAuthError(403, "invalid_grant", "Invalid code_verifier")
        record.used = True
        tokens = self.consent(client.client_id, record.account_id, [record.cloud_id], record.scopes)
        grant = self.grant_for(client.client_id, record.account_id)
        record.family = grant.family if grant else None
        return tokens

    def _revoke_replayed(self, record: AuthCode) -> None:
        """A replayed code may be stolen: its first tokens stop refreshing (RFC 6749 §4.1.2)."""
        grant = self.grant_for(record.client_id, record.account_id)
        if grant is not None and grant.family == record.family:
            self.revoke_family(grant)

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
        """Orphan every refresh token of the live family. Access tokens are self-contained JWTs at
        Atlassian, so the ones already issued live out their hour."""
        grant.family = secrets.token_hex(8)

    def revoke_grant(self, grant_id: str) -> bool:
        """The user removes the app from their profile: every token of the grant stops working."""
        grant = self.grants.get(grant_id)
        if grant is None:
            return False
        grant.revoked = True
        self.revoke_family(grant)
        return True

    def expire_access_tokens(self, grant_id: str | None = None) -> int:
        now = self.clock.time()
        hit = [a for a in self.access_tokens.values() if grant_id in (None, a.grant_id) and a.expires >= now]
        for a in hit:
            a.expires = now - 1
        return len(hit)

    def live_refresh_tokens(self, grant_id: str | None = None) -> list[RefreshToken]:
        live_families = {g.family for g in self.grants.values() if grant_id in (None, g.grant_id)}
        return [r for r in self.refresh_tokens.values() if r.family in live_families]

    def expire_refresh_tokens(self, grant_id: str | None = None) -> int:
        """Age the live refresh tokens past the 90-day inactivity limit."""
        hit = self.live_refresh_tokens(grant_id)
        for r in hit:
            r.issued = self.clock.time() - INACTIVITY_TTL - 1
        return len(hit)

    def revoke_refresh_tokens(self, grant_id: str | None = None) -> int:
        hit = [g for g in self.grants.values() if grant_id in (None, g.grant_id) and not g.revoked]
        for grant in hit:
            self.revoke_family(grant)
        return len(hit)

    def describe(self, grant: Grant) -> dict[str, Any]:
        """A grant as the control API lists it, with how many of its tokens still work."""
        now = self.clock.time()
        return {
            **asdict(grant),
            "live_access_tokens": sum(
                1 for a in self.access_tokens.values() if a.grant_id == grant.grant_id and a.expires >= now
            ),
            "live_refresh_tokens": len(self.live_refresh_tokens(grant.grant_id)),
        }

    # --- persistence ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Grants, tokens and codes; browser sessions are not kept (a restart signs browsers out)."""
        return {
            "clients": [asdict(c) for c in self.clients.values()],
            "grants": [asdict(g) for g in self.grants.values()],
            "refresh_tokens": [asdict(r) for r in self.refresh_tokens.values()],
            "access_tokens": [asdict(a) for a in self.access_tokens.values()],
            "codes": [asdict(c) for c in self.codes.values()],
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self.clients = {c["client_id"]: Client(**c) for c in data.get("clients", [])}
        self.grants = {g["grant_id"]: Grant(**g) for g in data.get("grants", [])}
        self.refresh_tokens = {r["token"]: RefreshToken(**r) for r in data.get("refresh_tokens", [])}
        self.access_tokens = {a["token"]: AccessToken(**a) for a in data.get("access_tokens", [])}
        self.codes = {c["code"]: AuthCode(**c) for c in data.get("codes", [])}
