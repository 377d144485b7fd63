"""A browser without a browser: drives the simulator's sign-in and consent forms over real HTTP.

It parses each page's form fields (hidden inputs, the site picker, the decision buttons) the way a
browser would submit them, and keeps the session cookie in its own cookie jar.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from appgov.demo.forms import the_form
from support.simulator import Simulator

DEFAULT_SCOPES = "read:jira-user read:jira-work offline_access read:me"


def callback_params(response: httpx.Response) -> dict[str, str]:
    """The query of the app callback a 302 sends the browser to."""
    assert response.status_code == 302, response.text[:500]
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Browser:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.http = httpx.Client(base_url=sim.url, verify=sim.verify, timeout=30)
        self.client = sim.state["oauth_client"]

    def authorize_params(self, **overrides: str | None) -> dict[str, str]:
        params: dict[str, str | None] = {
            "audience": "api.atlassian.com",
            "client_id": self.client["client_id"],
            "scope": DEFAULT_SCOPES,
            "redirect_uri": self.client["redirect_uris"][0],
            "state": secrets.token_urlsafe(12),
            "response_type": "code",
            "prompt": "consent",
            **overrides,
        }
        return {k: v for k, v in params.items() if v is not None}

    def authorize(self, **overrides: str | None) -> httpx.Response:
        return self.http.get("/authorize", params=self.authorize_params(**overrides))

    def submit(self, page: httpx.Response, **values: str) -> httpx.Response:
        form = the_form(page.text)
        return self.http.post(form.action, data={**form.fields, **values})

    def sign_in(
        self, page: httpx.Response, who: str = "site_admin", password: str | None = None
    ) -> httpx.Response:
        """Submit the sign-in form; on success follow the 303 to the consent page."""
        account = self.sim.state["accounts"][who]
        response = self.submit(page, email=account["email"], password=password or account["password"])
        if response.status_code == 303:
            return self.http.get(response.headers["location"])
        return response

    def decide(self, consent: httpx.Response, decision: str, site: str | None = None) -> httpx.Response:
        form = the_form(consent.text)
        chosen = {"site": self.sim.site(site)["cloud_id"]} if site else {}
        if not site and form.options.get("site"):
            chosen = {"site": form.options["site"][0]}  # what a browser submits when nobody picks
        return self.http.post(form.action, data={**form.fields, **chosen, "decision": decision})

    def code(
        self, who: str = "site_admin", site: str | None = None, **overrides: str | None
    ) -> dict[str, str]:
        """Sign in and accept: the callback's parameters (``code`` and ``state``)."""
        consent = self.sign_in(self.authorize(**overrides), who)
        return callback_params(self.decide(consent, "allow", site))

    def exchange(self, code: str, *, form: bool = False, **extra: str) -> httpx.Response:
        body = {
            "grant_type": "authorization_code",
            "client_id": self.client["client_id"],
            "client_secret": self.client["client_secret"],
            "code": code,
            "redirect_uri": self.client["redirect_uris"][0],
            **extra,
        }
        if form:
            return self.http.post("/oauth/token", data=body)
        return self.http.post("/oauth/token", json=body)

    def refresh(self, refresh_token: str, *, form: bool = False) -> httpx.Response:
        body = {
            "grant_type": "refresh_token",
            "client_id": self.client["client_id"],
            "client_secret": self.client["client_secret"],
            "refresh_token": refresh_token,
        }
        if form:
            return self.http.post("/oauth/token", data=body)
        return self.http.post("/oauth/token", json=body)

    def tokens(
        self, who: str = "site_admin", site: str | None = None, **overrides: str | None
    ) -> dict[str, Any]:
        """The whole flow: a token response for a fresh consent."""
        response = self.exchange(self.code(who, site, **overrides)["code"])
        assert response.status_code == 200, response.text
        return dict(response.json())

    def bearer_get(self, path: str, access_token: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers={"Authorization": f"Bearer {access_token}"}, **kwargs)

    def close(self) -> None:
        self.http.close()


def private_simulator() -> Iterator[Simulator]:
    """A simulator for one test module's OAuth flows. Grants are one per (client, account), so on
    the session's shared simulator another module's grant would replace ours."""
    simulator = Simulator("tiny")
    yield simulator
    simulator.stop()


def clean_browser(sim: Simulator) -> Iterator[Browser]:
    """A new browser (no cookies); every grant is revoked afterwards, so the next test starts with
    none, and a test that moves the clock forward cannot touch another's tokens."""
    opened = Browser(sim)
    yield opened
    opened.close()
    for grant in sim.control("GET", "/grants").json():
        if not grant["revoked"]:
            sim.control("DELETE", f"/grants/{grant['grant_id']}")
