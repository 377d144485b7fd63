"""auth.atlassian.com: the browser authorization flow and the token endpoint (references §1.1-1.3).

``GET /authorize`` validates the request, then a real sign-in page (a simulated account's email and
password) and a consent page (every scope with what it reads, a site picker, Accept and Deny) end in
a redirect to the app's callback. A server-side session (cookie ``sim_session``) carries who signed
in, an anti-CSRF token and the open requests. ``POST /oauth/token`` serves the authorization_code
and refresh_token grants from JSON or form bodies.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import orjson
from jinja2 import Environment, PackageLoader
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from appgov_sim.endpoint import transport_faults
from appgov_sim.http import JSONResponse
from appgov_sim.oauth import AuthRequest, OAuthError, Session
from appgov_sim.scopes import SCOPES, parse_scope, products_of, unknown_scopes
from appgov_sim.state import LoggedRequest, SimState
from appgov_sim.tenant.model import Account, Site

COOKIE = "sim_session"
AUDIENCE = "api.atlassian.com"
LOGIN_PATH = "/authorize/login"
CONSENT_PATH = "/authorize/consent"
PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 digest (RFC 7636)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
AUTH_FAULTS = "auth"  # the site name faults for the token endpoint are switched on with
DENIED = "User did not authorize the request"

TEMPLATES = Environment(loader=PackageLoader("appgov_sim", "templates"), autoescape=True)

Endpoint = Callable[[Request], Awaitable[Response]]


def logged(surface: str) -> Callable[[Endpoint], Endpoint]:
    """Record the request in the simulator's log and counters, as ``site_endpoint`` does for sites."""

    def wrap(handler: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            state: SimState = request.app.state.sim
            status = 500
            try:
                response = await handler(request)
                status = response.status_code
                return response
            finally:
                auth = request.headers.get("authorization", "").partition(" ")[0].lower() or "none"
                url = request.url
                state.record(
                    LoggedRequest(
                        time.time(), request.method, url.path, url.query, status, surface, None, auth
                    )
                )

        endpoint.__name__ = handler.__name__
        return endpoint

    return wrap


# --- pages -----------------------------------------------------------------------------------------


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(**context)
    return HTMLResponse(html, status, headers={**NO_STORE, "X-Frame-Options": "DENY"})


def error_page(message: str, status: int = 400) -> HTMLResponse:
    return page("error.html", status, title="Error", message=message)


def with_cookie(response: Response, request: Request, session: Session) -> Response:
    state: SimState = request.app.state.sim
    response.set_cookie(
        COOKIE, session.session_id, httponly=True, samesite="lax", secure=state.config.https, path="/"
    )
    return response


def redirect_back(uri: str, params: dict[str, str | None]) -> RedirectResponse:
    """302 to the app's callback with the given parameters appended to any it already has."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", 302, headers=NO_STORE)


def eligible_sites(state: SimState, account: Account, scopes: list[str]) -> list[Site]:
    """Sites the account administers that have a product the scopes reach (any site if none does)."""
    products = products_of(scopes)
    return [
        site
        for site in state.tenant.sites
        if site.is_admin(account.account_id) and (not products or any(site.has(p) for p in products))
    ]


def signin_page(
    request: Request, session: Session, request_id: str, error: str | None = None, email: str = ""
) -> Response:
    pending = session.pending[request_id]
    client = request.app.state.sim.oauth.client(pending.client_id)
    response = page(
        "signin.html",
        401 if error else 200,
        title="Log in",
        client_name=client.name if client else pending.client_id,
        action=LOGIN_PATH,
        csrf=session.csrf,
        request_id=request_id,
        error=error,
        email=email,
    )
    return with_cookie(response, request, session)


def consent_page(request: Request, session: Session, request_id: str, account: Account) -> Response:
    state: SimState = request.app.state.sim
    pending = session.pending[request_id]
    client = state.oauth.client(pending.client_id)
    sites = eligible_sites(state, account, pending.scopes)
    common: dict[str, Any] = {
        "client_name": client.name if client else pending.client_id,
        "account_name": account.display_name,
        "account_email": account.email,
        "action": CONSENT_PATH,
        "csrf": session.csrf,
        "request_id": request_id,
    }
    if not sites:
        products = sorted(products_of(pending.scopes))
        response = page("no_site.html", 403, title="No site", products=products, **common)
    else:
        listed = [{"cloud_id": s.cloud_id, "name": s.name, "url": state.site_base(s)} for s in sites]
        scopes = [SCOPES[name] for name in pending.scopes]
        response = page("consent.html", 200, title="Allow access", sites=listed, scopes=scopes, **common)
    return with_cookie(response, request, session)


# --- GET /authorize --------------------------------------------------------------------------------


def authorize_problem(params: Any) -> tuple[str, str] | None:
    """The OAuth error (code, description) a well-addressed request earns, or None (RFC 6749 §4.1.2.1)."""
    if params.get("response_type") != "code":
        return "unsupported_response_type", "response_type must be code"
    if params.get("audience") != AUDIENCE:
        return "invalid_request", f"audience must be {AUDIENCE}"
    scopes = parse_scope(params.get("scope", ""))
    if not scopes:
        return "invalid_scope", "scope is required"
    unknown = unknown_scopes(scopes)
    if unknown:
        return "invalid_scope", f"Unknown scope: {' '.join(unknown)[:200]}"
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if method is not None and challenge is None:
        return "invalid_request", "code_challenge_method without code_challenge"
    if challenge is not None and method != "S256":
        return "invalid_request", "code_challenge_method must be S256"
    if challenge is not None and not PKCE_CHALLENGE.fullmatch(challenge):
        return "invalid_request", "code_challenge must be 43 base64url characters"
    return None


@logged("auth")
async def authorize(request: Request) -> Response:
    state: SimState = request.app.state.sim
    params = request.query_params
    client = state.oauth.client(params.get("client_id"))
    if client is None:
        return error_page("Unknown client_id: this app is not registered with Atlassian.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        return error_page("The redirect_uri does not match any callback URL registered for this app.")
    problem = authorize_problem(params)
    if problem is not None:
        error, description = problem
        return redirect_back(
            redirect_uri, {"error": error, "error_description": description, "state": params.get("state")}
        )
    pending = AuthRequest(
        client.client_id,
        redirect_uri,
        parse_scope(params["scope"]),
        params.get("state"),
        params.get("code_challenge"),
    )
    session = state.oauth.session(request.cookies.get(COOKIE)) or state.oauth.new_session()
    request_id = state.oauth.open_request(session, pending)
    account = state.tenant.accounts.get(session.account_id or "")
    if account is None:
        return signin_page(request, session, request_id)
    return consent_page(request, session, request_id, account)


# --- the sign-in and consent forms -----------------------------------------------------------------


async def form_fields(request: Request) -> dict[str, str]:
    """A posted form's text fields; a malformed body reads as empty, which every check then refuses."""
    try:
        form = await request.form()
    except Exception:  # python-multipart raises several types on garbage; all mean "no fields"
        return {}
    return {k: v for k, v in form.items() if not isinstance(v, UploadFile)}


def checked_session(request: Request, fields: dict[str, str]) -> tuple[Session, str] | HTMLResponse:
    """The session and open request a form post belongs to, or the error page it earns."""
    state: SimState = request.app.state.sim
    session = state.oauth.session(request.cookies.get(COOKIE))
    if session is None:
        return error_page("Your session has expired. Go back to the app and start again.")
    if not secrets.compare_digest(session.csrf.encode(), fields.get("csrf", "").encode()):
        return error_page("This form was not sent from this browser session (anti-CSRF check failed).", 403)
    request_id = fields.get("request", "")
    if request_id not in session.pending:
        return error_page("This authorization request is no longer open. Go back to the app and start again.")
    return session, request_id


def password_matches(account: Account | None, password: str) -> bool:
    return (
        account is not None
        and account.active
        and account.password is not None
        and secrets.compare_digest(account.password.encode(), password.encode())
    )


@logged("auth")
async def sign_in(request: Request) -> Response:
    state: SimState = request.app.state.sim
    fields = await form_fields(request)
    checked = checked_session(request, fields)
    if isinstance(checked, Response):
        return checked
    session, request_id = checked
    email = fields.get("email", "")
    account = state.tenant.account_by_email(email) if email else None
    if account is None or not password_matches(account, fields.get("password", "")):
        return signin_page(request, session, request_id, "Incorrect email address and/or password.", email)
    signed_in = state.oauth.new_session(carried=session)  # a new id at sign-in defeats session fixation
    signed_in.account_id = account.account_id
    response = RedirectResponse(f"{CONSENT_PATH}?{urlencode({'request': request_id})}", 303)
    return with_cookie(response, request, signed_in)


@logged("auth")
async def show_consent(request: Request) -> Response:
    state: SimState = request.app.state.sim
    session = state.oauth.session(request.cookies.get(COOKIE))
    request_id = request.query_params.get("request", "")
    if session is None or request_id not in session.pending:
        return error_page("This authorization request is no longer open. Go back to the app and start again.")
    account = state.tenant.accounts.get(session.account_id or "")
    if account is None:
        return signin_page(request, session, request_id)
    return consent_page(request, session, request_id, account)


@logged("auth")
async def decide(request: Request) -> Response:
    state: SimState = request.app.state.sim
    fields = await form_fields(request)
    checked = checked_session(request, fields)
    if isinstance(checked, Response):
        return checked
    session, request_id = checked
    account = state.tenant.accounts.get(session.account_id or "")
    if account is None:
        return signin_page(request, session, request_id)
    pending = session.pending[request_id]
    if fields.get("decision") == "deny":
        del session.pending[request_id]
        return redirect_back(
            pending.redirect_uri,
            {"error": "access_denied", "error_description": DENIED, "state": pending.state},
        )
    site = next(
        (s for s in eligible_sites(state, account, pending.scopes) if s.cloud_id == fields.get("site")), None
    )
    if fields.get("decision") != "allow" or site is None:
        return consent_page(request, session, request_id, account)
    del session.pending[request_id]  # single use: a replayed post finds no open request
    code = state.oauth.issue_code(pending, account.account_id, site.cloud_id)
    state.save()
    return redirect_back(pending.redirect_uri, {"code": code, "state": pending.state})


# --- POST /oauth/token -----------------------------------------------------------------------------


def invalid_request(description: str) -> OAuthError:
    return OAuthError(400, "invalid_request", description)


async def token_fields(request: Request) -> dict[str, str]:
    """The token request's parameters from a JSON body (what Atlassian documents) or a form body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return await form_fields(request)
    if content_type != "application/json":
        raise invalid_request("Content-Type must be application/json or application/x-www-form-urlencoded")
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise invalid_request("The request body is not valid JSON") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise invalid_request("The request body must be a JSON object of strings")
    return data


def client_credentials(request: Request, fields: dict[str, str]) -> tuple[str | None, str | None]:
    """client_id and client_secret from the body, else from HTTP Basic (RFC 6749 §2.3.1)."""
    if "client_id" in fields:
        return fields["client_id"], fields.get("client_secret")
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return client_id, secret


async def grant_tokens(request: Request, state: SimState) -> dict[str, Any]:
    fields = await token_fields(request)
    grant_type = fields.get("grant_type")
    if not grant_type:
        raise invalid_request("Missing required parameter: grant_type")
    if grant_type not in ("authorization_code", "refresh_token"):
        raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type[:100]}")
    client = state.oauth.authenticate_client(*client_credentials(request, fields))
    if grant_type == "refresh_token":
        return state.oauth.refresh(client, fields.get("refresh_token"))
    return state.oauth.exchange_code(
        client, fields.get("code"), fields.get("redirect_uri"), fields.get("code_verifier")
    )


@logged("auth")
async def token(request: Request) -> Response:
    state: SimState = request.app.state.sim
    # faults switched on for the site name "auth" (and only those) apply here
    faults = [f for f in state.faults.matching(AUTH_FAULTS, "/oauth/token") if f.site == AUTH_FAULTS]
    injected = await transport_faults(request, faults, "auth") if faults else None
    if injected is not None:
        return injected
    try:
        response = JSONResponse(await grant_tokens(request, state), 200, NO_STORE)
    except OAuthError as err:
        body = {"error": err.error, "error_description": err.description}
        response = JSONResponse(body, err.status, NO_STORE)
    finally:
        state.save()  # codes, rotations and revocations are all OAuth state
    lost = await transport_faults(request, faults, "auth", processed=True) if faults else None
    return lost or response


ROUTES: list[BaseRoute] = [
    Route("/authorize", authorize, methods=["GET"]),
    Route(LOGIN_PATH, sign_in, methods=["POST"]),
    Route(CONSENT_PATH, show_consent, methods=["GET"]),
    Route(CONSENT_PATH, decide, methods=["POST"]),
    Route("/oauth/token", token, methods=["POST"]),
]
