"""Single sign-on against a real OpenID Connect provider (``oidc-provider-mock`` on a loopback port,
one per module): the authorization code flow with its state bound to the browser, the ID token
verified against the provider's JWKS, users matched by (issuer, subject), linked by a verified email
only, roles from a claim, SSO required, disabled users (reliability WS-08)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import oidc_provider_mock
import pytest
from oidc_provider_mock import run_server_in_thread
from sqlalchemy import select
from starlette.testclient import TestClient
from werkzeug.serving import make_server

from appgov.accounts.oidc import SsoRefused, verify_id_token
from appgov.accounts.permissions import Role
from appgov.accounts.principal import cli_user
from appgov.accounts.users import create_user
from appgov.administration.sso import mapped_role
from appgov.administration.users import disable, invite
from appgov.config import ROLES, OidcSettings, Settings
from appgov.outcomes import Code
from appgov.runtime import Runtime
from appgov.storage.models import AuditEvent, User
from appgov.web.app import create_app
from support.clock import FakeClock
from support.console import csrf_of

CLIENT_ID = "appgov"
PASSWORD = "a long enough password"
TOKEN_LIFETIME = timedelta(minutes=5)  # shorter than a sign-in's ten minutes, to expire one in flight


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The provider's issuer URL."""
    with run_server_in_thread(require_nonce=True, access_token_max_age=TOKEN_LIFETIME) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def other_provider() -> Iterator[str]:
    """A second provider, with its own signing key."""
    with run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def lying_provider(other_provider: str) -> Iterator[str]:
    """A provider whose JWKS holds another provider's key, so its ID tokens do not verify."""
    provider = oidc_provider_mock.app(require_nonce=True)
    foreign = httpx.get(f"{other_provider}/jwks").content

    def lying(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/jwks":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [foreign]
        return provider(environ, start_response)

    server = make_server("localhost", 0, lying, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def runtime(
    provider: str, module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    oidc = OidcSettings(
        issuer=provider,
        client_id=CLIENT_ID,
        client_secret="a client secret",
        role_claim="groups",
        role_map=(("sec-admins", "admin"), ("sec-team", "analyst")),
    )
    data_dir = tmp_path_factory.mktemp("sso")
    started = Runtime.start(Settings(data_dir=data_dir, database_url=module_database_url, oidc=oidc))
    started.clock = FakeClock(datetime.now(UTC))  # the provider signs with the real time
    with started.sessions.begin() as session:
        create_user(session, "ada@example.com", "Ada", PASSWORD, started.clock.now(), role=Role.ADMIN)
    yield started
    started.engine.dispose()


def provider_user(provider: str, sub: str, **claims: Any) -> None:
    """Register (or change) the provider's user ``sub`` with ``claims`` in their ID tokens."""
    assert httpx.put(f"{provider}/users/{sub}", json=claims).status_code == 204


def browser(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime), follow_redirects=False)


def authorize(client: TestClient, sub: str | None) -> str:
    """Start at appgov, sign in at the provider as ``sub`` (None: deny); the callback's path and query."""
    start = client.get("/login/sso", params={"next": "/apps"})
    assert start.status_code == 303, start.text
    asked = parse_qs(urlsplit(start.headers["location"]).query)
    assert asked["code_challenge_method"] == ["S256"]  # PKCE
    assert {"state", "nonce", "code_challenge"} <= set(asked)
    form = {"sub": sub} if sub else {"action": "deny"}
    answer = httpx.post(start.headers["location"], data=form)
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["location"])
    assert callback.path == "/login/sso/callback"
    return f"{callback.path}?{callback.query}"


def sign_in(runtime: Runtime, sub: str) -> tuple[TestClient, httpx.Response]:
    client = browser(runtime)
    return client, client.get(authorize(client, sub))


def session_of(client: TestClient) -> dict[str, Any] | None:
    answer = client.get("/api/v1/session")
    return dict(answer.json()) if answer.status_code == 200 else None


def user_of(runtime: Runtime, provider: str, sub: str) -> User | None:
    with runtime.sessions() as session:
        query = select(User).where(User.sso_issuer == provider, User.sso_subject == sub)
        return session.scalar(query)


def last_event(runtime: Runtime, action: str) -> AuditEvent:
    with runtime.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
        event = session.scalars(query).first()
    assert event is not None
    return event


def refused_with(answer: httpx.Response, words: str) -> None:
    assert answer.status_code == 400
    assert words in answer.text
    assert "appgov_session" not in answer.headers.get("set-cookie", "")


def test_a_first_sso_sign_in_creates_the_user_and_opens_a_session(runtime: Runtime, provider: str) -> None:
    assert "Sign in with SSO" in browser(runtime).get("/login").text
    provider_user(provider, "u-new", email="New@Example.com", email_verified=True, name="New Person")
    client, answer = sign_in(runtime, "u-new")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/apps"
    assert "appgov_sso_state=" in answer.headers["set-cookie"]  # deleted: the state is used up
    me = session_of(client)
    assert me is not None
    assert (me["email"], me["role"]) == ("new@example.com", "viewer")
    # signed in, neither route starts nor finishes another sign-in
    assert client.get("/login/sso").headers["location"] == "/integrations"
    assert client.get(authorize(browser(runtime), "u-new")).headers["location"] == "/integrations"
    user = user_of(runtime, provider, "u-new")
    assert user is not None
    assert (user.name, user.password_hash) == ("New Person", None)  # no password: SSO only
    event = last_event(runtime, "signin.succeeded")
    assert (event.actor, event.actor_via, event.actor_user_id) == ("new@example.com", "sso", user.id)


def test_the_same_subject_with_a_changed_email_is_the_same_user(runtime: Runtime, provider: str) -> None:
    provider_user(provider, "u-moves", email="before@example.com", email_verified=True)
    sign_in(runtime, "u-moves")
    before = user_of(runtime, provider, "u-moves")
    provider_user(provider, "u-moves", email="after@example.com", email_verified=True)
    client, answer = sign_in(runtime, "u-moves")
    assert answer.status_code == 303
    after = user_of(runtime, provider, "u-moves")
    assert before is not None
    assert after is not None
    assert (after.id, after.email) == (before.id, "after@example.com")
    assert (session_of(client) or {})["email"] == "after@example.com"
    assert last_event(runtime, "user.email_changed").detail == {"from_email": "before@example.com"}


def test_a_local_account_is_linked_only_when_the_provider_verified_the_email(
    runtime: Runtime, provider: str
) -> None:
    with runtime.sessions.begin() as session:
        local = create_user(session, "local@example.com", "Local", PASSWORD, runtime.clock.now()).id
    provider_user(provider, "u-local", email="local@example.com", email_verified=False)
    client, answer = sign_in(runtime, "u-local")
    refused_with(answer, "does not say the email is verified")
    assert session_of(client) is None
    failed = last_event(runtime, "signin.failed")
    assert (failed.actor_via, failed.detail["reason"]) == ("sso", "sso_email_unverified")
    assert user_of(runtime, provider, "u-local") is None

    provider_user(provider, "u-local", email="local@example.com", email_verified=True)
    _, answer = sign_in(runtime, "u-local")
    assert answer.status_code == 303
    linked = user_of(runtime, provider, "u-local")
    assert linked is not None
    assert linked.id == local
    assert linked.password_hash is not None  # the password still works: linking takes nothing away


def test_the_role_claim_sets_the_role_at_each_sign_in(runtime: Runtime, provider: str) -> None:
    provider_user(provider, "u-roles", email="roles@example.com", email_verified=True, groups=["sec-team"])
    client, _ = sign_in(runtime, "u-roles")
    assert (session_of(client) or {})["role"] == "analyst"
    provider_user(provider, "u-roles", email="roles@example.com", groups=["staff", "sec-admins", "sec-team"])
    client, _ = sign_in(runtime, "u-roles")
    assert (session_of(client) or {})["role"] == "admin"
    changed = last_event(runtime, "user.role_changed")
    assert (changed.actor_via, changed.detail) == ("sso", {"from_role": "analyst", "to_role": "admin"})
    provider_user(provider, "u-roles", email="roles@example.com", groups=["staff"])
    client, _ = sign_in(runtime, "u-roles")
    assert (session_of(client) or {})["role"] == "viewer"  # no group maps: the default role


def test_the_role_claim_never_demotes_the_last_enabled_admin(runtime: Runtime, provider: str) -> None:
    provider_user(provider, "u-boss", email="ada@example.com", email_verified=True, groups=["sec-admins"])
    sign_in(runtime, "u-boss")
    admins = [u for u in _users(runtime) if u.role == "admin" and u.disabled_at is None]
    with runtime.sessions.begin() as session:  # ada alone stays admin
        for other in admins:
            if other.email != "ada@example.com":
                session.get_one(User, other.id).role = "viewer"
    provider_user(provider, "u-boss", email="ada@example.com", email_verified=True, groups=["staff"])
    client, answer = sign_in(runtime, "u-boss")
    assert answer.status_code == 303
    assert (session_of(client) or {})["role"] == "admin"
    refused = last_event(runtime, "user.role_changed")
    assert (refused.outcome, refused.detail["reason"]) == ("failure", "last_admin")


def _users(runtime: Runtime) -> list[User]:
    with runtime.sessions() as session:
        return list(session.scalars(select(User)))


def test_an_answer_without_this_browsers_state_is_refused(runtime: Runtime, provider: str) -> None:
    provider_user(provider, "u-state", email="state@example.com", email_verified=True)
    mine = browser(runtime)
    callback = authorize(mine, "u-state")
    answer = parse_qs(urlsplit(callback).query)
    state, code = answer["state"][0], answer["code"][0]
    # another browser (a forged link, a login CSRF): no state cookie
    elsewhere = browser(runtime).get(callback)
    refused_with(elsewhere, "does not match a sign-in started in this browser")
    assert code not in elsewhere.text
    assert last_event(runtime, "signin.failed").detail == {"reason": "sso_state_invalid"}
    # a state appgov never issued, even in the cookie too
    forged = browser(runtime)
    made_up = secrets.token_urlsafe(32)
    forged.cookies.set("appgov_sso_state", made_up, path="/login/sso/callback")
    refused_with(forged.get(callback.replace(state, made_up)), "does not match a sign-in started")
    # the real answer works, once
    assert mine.get(callback).status_code == 303
    replay = browser(runtime)
    replay.cookies.set("appgov_sso_state", state, path="/login/sso/callback")
    refused_with(replay.get(callback), "does not match a sign-in started in this browser")


def test_the_provider_denying_the_sign_in_is_a_sign_in_page_error(runtime: Runtime) -> None:
    client = browser(runtime)
    answer = client.get(authorize(client, None))
    refused_with(answer, "The identity provider did not sign you in (access_denied).")
    assert last_event(runtime, "signin.failed").detail == {"reason": "sso_denied", "error": "access_denied"}
    # words anyone can put in a link do not reach the page
    forged = client.get("/login/sso/callback", params={"error": "Call +1 555 0100 to unlock your account"})
    refused_with(forged, "did not sign you in (an error it did not name)")
    assert "555" not in forged.text


def test_an_expired_id_token_is_refused(runtime: Runtime, provider: str) -> None:
    provider_user(provider, "u-slow", email="slow@example.com", email_verified=True)
    client = browser(runtime)
    callback = authorize(client, "u-slow")
    clock = runtime.clock
    assert isinstance(clock, FakeClock)
    clock.advance(minutes=7)  # the sign-in (ten minutes) still holds; the token (five) has expired
    try:
        refused_with(client.get(callback), "answer was refused (expired token: exp)")
    finally:
        clock.advance(minutes=-7)
    assert user_of(runtime, provider, "u-slow") is None


def test_an_id_token_that_does_not_verify_is_refused_on_the_sign_in_page(
    runtime: Runtime, lying_provider: str
) -> None:
    lying = Runtime(
        replace(runtime.settings, oidc=replace(runtime.settings.oidc, issuer=lying_provider)),
        runtime.engine, runtime.sessions, runtime.secrets, runtime.clock,
    )  # fmt: skip
    provider_user(lying_provider, "u-lied", email="lied@example.com", email_verified=True)
    client, answer = sign_in(lying, "u-lied")
    refused_with(answer, "The identity provider&#39;s answer was refused (")
    assert session_of(client) is None
    failed = last_event(runtime, "signin.failed")
    assert failed.detail["reason"] == "sso_token_invalid"
    assert failed.detail["detail"] in ("bad signature", "invalid key id")
    assert user_of(runtime, lying_provider, "u-lied") is None


def test_a_disabled_user_cannot_sign_in_through_sso(runtime: Runtime, provider: str) -> None:
    provider_user(provider, "u-gone", email="gone@example.com", email_verified=True)
    sign_in(runtime, "u-gone")
    with runtime.sessions.begin() as session:
        user = session.scalar(select(User).where(User.email == "gone@example.com"))
        assert user is not None
        disable(session, user, cli_user("root"), runtime.clock.now())
    client, answer = sign_in(runtime, "u-gone")
    refused_with(answer, "Your account is disabled")
    assert session_of(client) is None
    assert last_event(runtime, "signin.failed").detail == {"reason": "sso_user_disabled"}


def test_sso_required_refuses_password_sign_in_and_offers_only_sso(runtime: Runtime) -> None:
    required = Runtime(
        replace(runtime.settings, oidc=replace(runtime.settings.oidc, required=True)),
        runtime.engine, runtime.sessions, runtime.secrets, runtime.clock,
    )  # fmt: skip
    client = browser(required)
    page = client.get("/login")
    assert "Sign in with SSO" in page.text
    assert 'name="password"' not in page.text
    # a password posted anyway (the form's CSRF token is the pre-session cookie's)
    form = {
        "email": "ada@example.com",
        "password": PASSWORD,
        "csrf_token": client.cookies["appgov_login_csrf"],
    }
    answer = client.post("/login", data=form)
    assert answer.status_code == 403
    assert "Sign in with SSO: password sign-in is turned off here." in answer.text
    assert client.get("/api/v1/session").status_code == 401
    assert last_event(runtime, "signin.failed").detail == {"reason": "sso_required"}
    # nor does an invitation make a password account there
    with runtime.sessions.begin() as session:
        token, _ = invite(session, "invited@example.com", Role.ANALYST, cli_user("root"), runtime.clock.now())
    for answer in (
        client.get(f"/invitations/{token}"),
        client.post(
            f"/invitations/{token}",
            data={"name": "I", "password": PASSWORD, "password_again": PASSWORD,
                  "csrf_token": client.cookies["appgov_login_csrf"]},
        ),
    ):  # fmt: skip
        assert answer.status_code == 403
        assert "Sign in with SSO instead" in answer.text
    # the same password signs in where SSO is not required
    plain = browser(runtime)
    form["csrf_token"] = csrf_of(plain.get("/login").text)
    assert plain.post("/login", data=form).status_code == 303


def test_sign_in_with_sso_where_it_is_not_configured_says_so(tmp_path: Path) -> None:
    plain = Runtime.start(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'appgov.db'}"))
    try:
        client = browser(plain)
        assert "Sign in with SSO" not in client.get("/login").text
        refused_with(client.get("/login/sso"), "Single sign-on is not configured here")
    finally:
        plain.engine.dispose()


def test_the_role_claim_maps_through_the_map_or_names_roles_itself() -> None:
    issuer = "https://idp.example.com"
    mapped = OidcSettings(issuer=issuer, client_id="c", role_map=(("sec-team", "analyst"), ("boss", "admin")))
    assert mapped_role(mapped, ("staff", "sec-team")) == Role.ANALYST
    assert mapped_role(mapped, ("sec-team", "boss")) == Role.ADMIN  # the highest
    assert mapped_role(mapped, ("admin",)) is None  # with a map, only the map counts
    named = OidcSettings(issuer=issuer, client_id="c")
    assert mapped_role(named, ("analyst",)) == Role.ANALYST
    assert mapped_role(named, ("sec-team",)) is None


def test_the_sso_settings_are_read_from_the_environment_and_checked() -> None:
    env = {
        "APPGOV_OIDC_ISSUER": "https://idp.example.com/",
        "APPGOV_OIDC_CLIENT_ID": "appgov",
        "APPGOV_OIDC_CLIENT_SECRET": "a client secret",
        "APPGOV_OIDC_ROLE_CLAIM": "groups",
        "APPGOV_OIDC_ROLE_MAP": "sec-admins=admin, sec-team = Analyst",
        "APPGOV_SSO_REQUIRED": "true",
    }
    settings = Settings.from_env(env)
    assert settings.oidc == OidcSettings(
        issuer="https://idp.example.com/", client_id="appgov", client_secret="a client secret",
        role_claim="groups", role_map=(("sec-admins", "admin"), ("sec-team", "analyst")), required=True,
    )  # fmt: skip
    assert "a client secret" not in repr(settings)
    assert settings.sso_redirect_uri == "http://127.0.0.1:8000/login/sso/callback"
    with pytest.raises(ValueError, match="not one of"):
        Settings.from_env({**env, "APPGOV_OIDC_ROLE_MAP": "sec-admins=root"})
    with pytest.raises(ValueError, match="is not name=role"):
        Settings.from_env({**env, "APPGOV_OIDC_ROLE_MAP": "sec-admins"})
    with pytest.raises(ValueError, match="APPGOV_SSO_REQUIRED needs"):
        Settings.from_env({"APPGOV_SSO_REQUIRED": "1"})
    with pytest.raises(ValueError, match="APPGOV_OIDC_ISSUER must use https"):
        Settings.from_env({**env, "APPGOV_OIDC_ISSUER": "http://idp.example.com"})
    with pytest.raises(ValueError, match="APPGOV_PUBLIC_URL on https"):
        Settings.from_env({**env, "APPGOV_PUBLIC_URL": "http://appgov.example.com"})
    assert {role.value for role in Role} == set(ROLES)


# --- the ID token itself, as the provider issued it ----------------------------------------------


def id_token_for(provider: str, client_id: str, nonce: str) -> tuple[str, str]:
    """An ID token and access token the provider issues to ``client_id`` for a fresh user."""
    sub = f"u-{secrets.token_hex(4)}"
    provider_user(provider, sub, email=f"{sub}@example.com", email_verified=True)
    redirect = "http://127.0.0.1/callback"
    query = {"client_id": client_id, "response_type": "code", "scope": "openid email", "nonce": nonce,
             "redirect_uri": redirect, "state": "s"}  # fmt: skip
    answer = httpx.post(f"{provider}/oauth2/authorize", params=query, data={"sub": sub})
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    tokens = httpx.post(
        f"{provider}/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
        auth=(client_id, "secret"),
    ).json()
    return str(tokens["id_token"]), str(tokens["access_token"])


def verify(provider: str, token: str, access_token: str, *, issuer: str | None = None) -> dict[str, Any]:
    jwks = httpx.get(f"{provider}/jwks").json()
    return verify_id_token(
        token, jwks, issuer=issuer or provider, client_id=CLIENT_ID, nonce="n-1", access_token=access_token,
        now=datetime.now(UTC), algorithms=["RS256"],
    )  # fmt: skip


def refusal(call: Any) -> str:
    with pytest.raises(SsoRefused) as refused:
        call()
    assert refused.value.outcome.code == Code.SSO_TOKEN_INVALID
    return str(refused.value.outcome.params["detail"])


def test_a_genuine_id_token_verifies(provider: str) -> None:
    token, access = id_token_for(provider, CLIENT_ID, "n-1")
    assert verify(provider, token, access)["email_verified"] is True


def test_an_id_token_issued_to_another_client_is_refused(provider: str) -> None:
    token, access = id_token_for(provider, "another-app", "n-1")
    assert refusal(lambda: verify(provider, token, access)) == "invalid claim: aud"


def test_an_id_token_with_another_nonce_is_refused(provider: str) -> None:
    token, access = id_token_for(provider, CLIENT_ID, "n-2")
    assert refusal(lambda: verify(provider, token, access)) == "invalid claim: nonce"


def test_a_tampered_id_token_is_refused(provider: str) -> None:
    token, access = id_token_for(provider, CLIENT_ID, "n-1")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refusal(lambda: verify(provider, f"{header}.{forged}.{signature}", access)) == "bad signature"


def test_an_id_token_signed_by_another_providers_key_is_refused(provider: str, other_provider: str) -> None:
    token, access = id_token_for(other_provider, CLIENT_ID, "n-1")
    detail = refusal(lambda: verify(provider, token, access, issuer=other_provider))
    assert detail in ("bad signature", "invalid key id")
