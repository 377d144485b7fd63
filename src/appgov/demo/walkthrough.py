"""Connect the demo's sites the way an administrator does, over HTTP: sign in to the console,
*Add* next to Atlassian, sign in at the (simulated) Atlassian authorization server, accept the
consent for one site, come back through the callback, pick the site, paste the API token, Connect.
Nothing is written into the database behind the console's back."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from appgov.demo.forms import Form, form_posting_to, the_form

ADD_PATH = "/integrations/atlassian/add"
CONNECT_PATH = "/integrations/atlassian/connect"


class WalkthroughError(Exception):
    pass


class Walkthrough:
    def __init__(self, console_url: str, sim_state: dict[str, Any], admin: tuple[str, str]) -> None:
        self.console = httpx.Client(base_url=console_url, timeout=60)
        self.atlassian = httpx.Client(verify=sim_state["certificate"] or True, timeout=60)
        self.sim_state = sim_state
        self.admin = admin

    def close(self) -> None:
        self.console.close()
        self.atlassian.close()

    def sign_in(self) -> None:
        email, password = self.admin
        page = self._ok(self.console.get("/login"))
        self._submit(self.console, form_posting_to(page.text, "/login"), email=email, password=password)

    def connect(self, site_name: str, who: str = "site_admin") -> None:
        """One consent and one API key for the site: what the Add button leads through."""
        site = next(s for s in self.sim_state["sites"] if s["name"] == site_name)
        account = self.sim_state["accounts"][who]
        integrations = self._ok(self.console.get("/integrations"))
        authorize = self._submit(self.console, form_posting_to(integrations.text, ADD_PATH))
        callback = self._consent(authorize.headers["location"], account, site["cloud_id"])
        connect_page = self._follow(self.console, self.console.get(callback))
        form = form_posting_to(connect_page.text, CONNECT_PATH)
        done = self._submit(
            self.console, form, site=self._site_option(form, site), email=account["email"],
            api_token=account["api_token"],
        )  # fmt: skip
        if urlsplit(done.headers.get("location", "")).path != "/integrations":
            raise WalkthroughError(f"connecting {site_name} did not succeed: HTTP {done.status_code}")

    def _consent(self, authorize_url: str, account: dict[str, Any], cloud_id: str) -> str:
        """Atlassian's side: sign in (unless still signed in), accept for the site; returns the
        callback URL it redirects to."""
        page = self._ok(self.atlassian.get(authorize_url))
        form = the_form(page.text)
        if "decision" not in form.buttons:
            credentials = {"email": account["email"], "password": account["password"]}
            signed_in = self._submit(self.atlassian, form, base=authorize_url, **credentials)
            form = the_form(self._follow(self.atlassian, signed_in, base=authorize_url).text)
        answer = self._submit(self.atlassian, form, base=authorize_url, site=cloud_id, decision="allow")
        return answer.headers["location"]

    @staticmethod
    def _site_option(form: Form, site: dict[str, Any]) -> str:
        for value in form.options.get("site", []):
            if value in (site["cloud_id"], site["base_url"]):
                return value
        raise WalkthroughError(f"the console offers no site {site['name']} to connect")

    def _submit(
        self, client: httpx.Client, form: Form, base: str | None = None, **values: str
    ) -> httpx.Response:
        action = httpx.URL(base).join(form.action) if base else form.action
        response = client.post(action, data={**form.fields, **values})
        if response.status_code not in (302, 303):
            raise WalkthroughError(
                f"POST {form.action} answered HTTP {response.status_code}: {response.text[:300]}"
            )
        return response

    def _follow(
        self, client: httpx.Client, response: httpx.Response, base: str | None = None
    ) -> httpx.Response:
        while response.status_code in (302, 303):
            target = response.headers["location"]
            response = client.get(httpx.URL(base).join(target) if base else target)
        return self._ok(response)

    @staticmethod
    def _ok(response: httpx.Response) -> httpx.Response:
        if response.status_code != 200:
            raise WalkthroughError(f"{response.request.url.path} answered HTTP {response.status_code}")
        return response
