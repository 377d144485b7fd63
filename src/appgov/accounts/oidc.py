"""Signing in to the console through an OpenID Connect provider: the authorization code flow with PKCE,
with Authlib's client and joserfc (reliability WS-08).

- ``start_sign_in`` reads the provider's discovery document, then stores an ``SsoFlow``: the state only
  as its SHA-256 (the state itself rides in the browser's cookie and through the provider), the nonce,
  the PKCE verifier encrypted, single-use, valid ten minutes. The authorization URL carries the state,
  the nonce and the S256 challenge.
- ``finish_sign_in`` checks the state before any request to the provider: it must equal the browser's
  cookie (so an answer started in another browser is refused) and name an unused, unexpired flow, which
  a conditional UPDATE marks used (two replays cannot both pass). Only then is the code exchanged, with
  the verifier and the one redirect URI, and the ID token verified: its signature against the
  provider's JWKS, its issuer, audience, expiry and nonce.

Every refusal is an ``SsoRefused`` with a reason code (``outcomes.Code.SSO_*``); no token is kept,
logged or put in a refusal.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import warnings
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select, update

from appgov.outcomes import Code, Outcome
from appgov.runtime import Runtime
from appgov.storage.models import SsoFlow

with warnings.catch_warnings():
    # Authlib 1.9.10 warns, on every appgov command, that it prefers its httpx fork (httpx2); appgov
    # speaks httpx everywhere, which Authlib still supports
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

STATE_TTL = timedelta(minutes=10)  # from "Sign in with SSO" to the provider's answer
LEEWAY_SECONDS = 60  # clock skew allowed on the ID token's times
TIMEOUT = httpx.Timeout(10.0)
SCOPE = "openid email profile"
# the ID token's signature: asymmetric algorithms only, so a token cannot be signed with a public key
# as an HMAC secret, nor left unsigned
ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})


ERROR_CODE = re.compile(r"[a-z_]{1,64}")


class SsoRefused(Exception):
    """The sign-in cannot go on; ``outcome`` says why (a reason code, words for the sign-in page)."""

    def __init__(self, code: Code, **params: Any) -> None:
        self.outcome = Outcome(code, params)
        super().__init__(self.outcome.text)


@dataclass(frozen=True)
class SignInStarted:
    url: str  # the provider's authorization URL to send the browser to
    state: str  # for the browser's cookie: the callback must bring the same one back


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, from a verified ID token."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str
    role_values: tuple[str, ...]  # the configured role claim's value(s); empty without one
    next_path: str  # where the sign-in was started for


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _verifier_context(state_hash: str) -> str:
    return f"sso_flow:{state_hash}:code_verifier"


def _client(runtime: Runtime) -> AsyncOAuth2Client:
    oidc = runtime.settings.oidc
    return AsyncOAuth2Client(
        client_id=oidc.client_id,
        client_secret=oidc.client_secret,
        token_endpoint_auth_method="client_secret_basic" if oidc.client_secret else "none",
        scope=SCOPE,
        redirect_uri=runtime.settings.sso_redirect_uri,
        code_challenge_method="S256",
        timeout=TIMEOUT,
        verify=runtime.verify,
    )


async def _json(client: AsyncOAuth2Client, url: str) -> dict[str, Any]:
    try:
        response = await client.request("GET", url, withhold_token=True)
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as err:
        raise SsoRefused(Code.SSO_UNREACHABLE, detail=type(err).__name__) from None
    if not isinstance(body, dict):
        raise SsoRefused(Code.SSO_UNREACHABLE, detail=f"HTTP {response.status_code} from {url}")
    return body


async def _metadata(client: AsyncOAuth2Client, issuer: str) -> dict[str, Any]:
    """The provider's discovery document, which must name the configured issuer."""
    metadata = await _json(client, f"{issuer.rstrip('/')}/.well-known/openid-configuration")
    if metadata.get("issuer") != issuer:
        raise SsoRefused(Code.SSO_UNREACHABLE, detail="its discovery document names another issuer")
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(endpoint), str):
            raise SsoRefused(Code.SSO_UNREACHABLE, detail=f"its discovery document has no {endpoint}")
    return metadata


def _issuer(runtime: Runtime) -> str:
    oidc = runtime.settings.oidc
    if oidc.issuer is None or not oidc.configured:
        raise SsoRefused(Code.SSO_NOT_CONFIGURED)
    return oidc.issuer


async def start_sign_in(runtime: Runtime, next_path: str) -> SignInStarted:
    """A new sign-in at the provider, to land on ``next_path``; expired flows are cleared."""
    issuer = _issuer(runtime)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    async with _client(runtime) as client:
        metadata = await _metadata(client, issuer)
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
        )
    now = runtime.clock.now()
    hashed = _hash(state)
    with runtime.sessions.begin() as session:
        session.execute(delete(SsoFlow).where(SsoFlow.expires_at <= now))
        session.add(
            SsoFlow(
                state_hash=hashed, nonce=nonce, next_path=next_path, created_at=now,
                code_verifier=runtime.secrets.encrypt(verifier, _verifier_context(hashed)),
                expires_at=now + STATE_TTL,
            )
        )  # fmt: skip
    return SignInStarted(str(url), state)


def _claim(runtime: Runtime, cookie_state: str | None, state: str | None) -> SsoFlow:
    """The flow the state names, used up now: refused unless the browser's cookie holds the same state
    and the flow is unused and fresh."""
    if not state or not cookie_state or not hmac.compare_digest(state.encode(), cookie_state.encode()):
        raise SsoRefused(Code.SSO_STATE_INVALID)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        flow = session.scalar(select(SsoFlow).where(SsoFlow.state_hash == _hash(state)))
        if flow is None or flow.used_at is not None or flow.expires_at <= now:
            raise SsoRefused(Code.SSO_STATE_INVALID)
        taken = session.execute(
            update(SsoFlow).where(SsoFlow.id == flow.id, SsoFlow.used_at.is_(None)).values(used_at=now)
        )
        if getattr(taken, "rowcount", 0) != 1:
            raise SsoRefused(Code.SSO_STATE_INVALID)
        session.expunge(flow)
        return flow


async def finish_sign_in(
    runtime: Runtime, cookie_state: str | None, state: str | None, code: str | None, error: str | None
) -> Identity:
    """The provider's answer on the callback: the state first, then the code, then the ID token."""
    if error:
        # told even without a valid state (a provider may leave it out of an error): it opens nothing
        with suppress(SsoRefused):
            _claim(runtime, cookie_state, state)
        raise SsoRefused(Code.SSO_DENIED, error=_error_code(error))
    flow = _claim(runtime, cookie_state, state)
    if not code:
        raise SsoRefused(Code.SSO_DENIED, error="no authorization code")
    issuer, oidc = _issuer(runtime), runtime.settings.oidc
    verifier = runtime.secrets.decrypt(flow.code_verifier, _verifier_context(flow.state_hash))
    async with _client(runtime) as client:
        metadata = await _metadata(client, issuer)
        try:
            tokens = await client.fetch_token(metadata["token_endpoint"], code=code, code_verifier=verifier)
        except OAuthError as err:
            raise SsoRefused(Code.SSO_DENIED, error=_error_code(str(err.error))) from None
        except (httpx.HTTPError, ValueError) as err:
            raise SsoRefused(Code.SSO_UNREACHABLE, detail=type(err).__name__) from None
        jwks = await _json(client, metadata["jwks_uri"])
    claims = verify_id_token(
        tokens.get("id_token"), jwks, issuer=issuer, client_id=str(oidc.client_id), nonce=flow.nonce,
        access_token=tokens.get("access_token"), now=runtime.clock.now(),
        algorithms=metadata.get("id_token_signing_alg_values_supported") or ["RS256"],
    )  # fmt: skip
    return Identity(
        issuer=issuer,
        subject=str(claims["sub"]),
        email=claims["email"] if isinstance(claims.get("email"), str) else None,
        email_verified=claims.get("email_verified") is True,
        name=claims["name"] if isinstance(claims.get("name"), str) else "",
        role_values=_values(claims.get(oidc.role_claim)) if oidc.role_claim else (),
        next_path=flow.next_path,
    )


def _error_code(error: str) -> str:
    """An OAuth error code (``access_denied``, ``invalid_grant``, ...) as is; anything else in an
    answer anyone can forge is not put on the sign-in page."""
    return error if ERROR_CODE.fullmatch(error) else "an error it did not name"


def _values(claim: Any) -> tuple[str, ...]:
    """A claim holding one name or a list of names (a groups claim), as names."""
    if isinstance(claim, str):
        return (claim,)
    return tuple(v for v in claim if isinstance(v, str)) if isinstance(claim, list) else ()


def verify_id_token(
    id_token: Any,
    jwks: dict[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: Any,
    now: datetime,
    algorithms: list[str],
) -> dict[str, Any]:
    """The ID token's claims, once its signature verifies against the provider's ``jwks`` and its
    issuer, audience (and authorized party), expiry, issue time, nonce and access-token hash hold."""
    allowed = [a for a in algorithms if a in ALGORITHMS]
    if not isinstance(id_token, str) or not allowed:
        raise SsoRefused(Code.SSO_TOKEN_INVALID, detail="no ID token signed with a public key")
    try:
        decoded = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=allowed)  # type: ignore[arg-type]
        expected = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
        }
        params = {"nonce": nonce, "client_id": client_id, "access_token": access_token}
        claims = CodeIDToken(decoded.claims, decoded.header, expected, params)
        claims.validate(now=int(now.timestamp()), leeway=LEEWAY_SECONDS)
    except ClaimError as err:
        raise SsoRefused(
            Code.SSO_TOKEN_INVALID, detail=f"{err.error.replace('_', ' ')}: {err.claim}"
        ) from None
    except (JoseError, ValueError) as err:
        detail = err.error.replace("_", " ") if isinstance(err, JoseError) else "unreadable token"
        raise SsoRefused(Code.SSO_TOKEN_INVALID, detail=detail) from None
    return dict(claims)
