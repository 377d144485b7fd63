"""``AtlassianClient``: every HTTP call appgov makes to an Atlassian site goes through here.

It sends only to the site's own host (links Atlassian returns are checked before they are
followed; redirects are never followed), applies the one retry policy (to idempotent requests
only: see retry.py), bounds concurrency per domain, and counts requests and retries for the run
record. Secrets never reach a log line: errors carry the method, URL and status only.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from xml.etree.ElementTree import ParseError

import httpx
import orjson
from defusedxml import DefusedXmlException, ElementTree

from appgov import __version__
from appgov.clock import Clock, SystemClock
from appgov.connectors.atlassian.sites import host_of
from appgov.connectors.base import CallStats, ConnectorError, Reply
from appgov.connectors.retry import (
    NOT_SENT,
    RETRYABLE_STATUS,
    Deferred,
    RetryPolicy,
    parse_retry_after,
    resume_time,
)
from appgov.connectors.retry import idempotent as is_idempotent
from appgov.outcomes import Code, Outcome

USER_AGENT = f"appgov/{__version__} (+https://github.com/appgov/appgov)"


class AtlassianError(ConnectorError):
    """A call to Atlassian failed for good; ``status`` is None for transport failures."""


class Unconfirmed(AtlassianError):
    """A request that must not be sent twice failed without a definite answer: it may or may not
    have been processed. Its caller finds out another way (a token refresh re-reads the grant)."""


class OffSiteURL(AtlassianError):
    """Atlassian (or something in between) pointed us at another host: refused (SSRF guard)."""


class RequestBudget:
    """At most ``limit`` requests per run for one domain, shared by its clients. Past it the run ends
    *deferred* for ``window`` and resumes from its checkpoints then: the way to stay inside a quota
    Atlassian counts per hour (references §7.1)."""

    def __init__(self, limit: int, window: timedelta = timedelta(hours=1)) -> None:
        self.limit, self.window, self.spent = limit, window, 0

    def spend(self, now: datetime) -> None:
        if self.spent >= self.limit:
            raise Deferred(
                now + self.window,
                f"the request budget of {self.limit} per run is spent",
                Outcome(Code.BUDGET_SPENT, {"limit": self.limit}),
            )
        self.spent += 1


@dataclass(frozen=True)
class Failure:
    """An attempt that got no usable answer; ``sent``: the request may have reached the server."""

    failure: str
    status: int | None = None
    retry_after: float | None = None
    sent: bool = True


class AtlassianClient:
    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        concurrency: int = 8,
        verify: str | bool = True,
        timeout: float = 60.0,
        rng: random.Random | None = None,
        budget: RequestBudget | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.host = host_of(self.base_url)
        self.policy = policy or RetryPolicy()
        self.clock = clock or SystemClock()
        self.stats = CallStats()
        self._rng = rng or random.Random()
        self._lanes = Lanes(
            concurrency,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            auth=auth,
            follow_redirects=False,
            verify=httpx.create_ssl_context(verify=verify),  # one TLS context for every lane
            timeout=timeout,
            trust_env=True,  # the standard proxy variables are honoured
        )

    async def __aenter__(self) -> AtlassianClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._lanes.aclose()

    def url(self, path_or_url: str) -> str:
        """Absolute URL on the site; a link to another host or scheme is refused."""
        if path_or_url.startswith(("http://", "https://")):
            url = path_or_url
        else:
            url = f"{self.base_url}/{path_or_url.lstrip('/')}"
        if host_of(url) != self.host or not url.startswith(self.base_url.split("://")[0] + "://"):
            raise OffSiteURL(f"refusing to follow a link off the site ({host_of(url)})", url=url)
        return url

    async def get(
        self, path_or_url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        """GET with retries; returns the final reply (2xx or a non-retryable 4xx) or raises."""
        return await self.request("GET", path_or_url, params=params, headers=headers)

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Reply:
        """The final reply (2xx or a non-retryable 4xx), or raises. ``idempotent`` declares whether
        the request may be sent twice; by default its method says (retry.py)."""
        url = self.url(path_or_url)
        replayable = is_idempotent(method, idempotent)
        attempt = 0
        while True:
            attempt += 1
            result = await self._attempt(method, url, params, headers, json)
            if isinstance(result, Reply):
                return result
            if result.sent and not replayable:
                raise Unconfirmed(
                    f"{method} {url} ended with {result.failure}; not sent again, as it may have "
                    "been processed",
                    result.status,
                    url,
                )
            await self._wait_before_retry(method, url, attempt, result.failure, result.retry_after)

    async def _attempt(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        json: Any,
    ) -> Reply | Failure:
        async with self._lanes.lane() as http:
            if self.budget is not None:
                self.budget.spend(self.clock.now())
            self.stats.requests += 1
            try:
                response = await http.request(method, url, params=params, headers=headers, json=json)
            except httpx.TransportError as err:
                return Failure(type(err).__name__, sent=not isinstance(err, NOT_SENT))
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock.now())
        if status in RETRYABLE_STATUS:
            return Failure(f"HTTP {status}", status, retry_after)
        if 300 <= status < 400:
            raise OffSiteURL(
                f"{method} {url} answered a redirect, which appgov does not follow",
                status,
                url,
                outcome=Outcome(Code.OFF_SITE_REDIRECT, {"method": method, "url": url}),
            )
        reply = Reply(status, response.headers, _parse(response), str(response.url))
        if reply.data is MALFORMED:
            return Failure("a malformed JSON body", status, retry_after)
        return reply

    async def _wait_before_retry(
        self, method: str, url: str, attempt: int, failure: str, retry_after: float | None
    ) -> None:
        if attempt >= self.policy.max_attempts:
            code = Code.SERVER_FAILING if failure.startswith("HTTP") else Code.SITE_UNREACHABLE
            raise AtlassianError(
                f"{method} {url} failed {attempt} times, last with {failure}",
                url=url,
                outcome=Outcome(code, {"url": url, "attempts": attempt, "failure": failure}),
            )
        delay = self.policy.delay(attempt, retry_after, self._rng)
        if delay > self.policy.defer_after:
            code = Code.RATE_LIMITED if failure == "HTTP 429" else Code.ASKED_TO_WAIT
            raise Deferred(
                resume_time(self.clock.now(), delay),
                f"{url} asked to wait {delay:.0f}s ({failure})",
                Outcome(code, {"url": url, "seconds": round(delay), "failure": failure}),
            )
        self.stats.retries += 1
        await asyncio.sleep(delay)


class Lanes:
    """At most ``concurrency`` requests at once, each on a lane of its own: an httpx client (opened on
    first need) that keeps one connection alive. One client with one pool for them all cost more CPU
    than the requests themselves: httpcore walks every connection of its pool several times a
    request, polling each idle one to see whether the server closed it."""

    def __init__(self, concurrency: int, **options: Any) -> None:
        self.concurrency, self.options = concurrency, options
        self.idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        self.opened: list[httpx.AsyncClient] = []

    @asynccontextmanager
    async def lane(self) -> AsyncIterator[httpx.AsyncClient]:
        if self.idle.empty() and len(self.opened) < self.concurrency:
            http = httpx.AsyncClient(**self.options)
            self.opened.append(http)
        else:
            http = await self.idle.get()
        try:
            yield http
        finally:
            self.idle.put_nowait(http)

    async def aclose(self) -> None:
        for http in self.opened:
            await http.aclose()


MALFORMED = object()


def _parse(response: httpx.Response) -> Any:
    """The JSON body, or an Atom feed's ``{"entries": [...]}``; a 2xx whose body is truncated or
    garbage is ``MALFORMED`` (transient)."""
    content_type = response.headers.get("content-type", "")
    if response.content and "atom+xml" in content_type:
        try:
            return {"entries": _atom_entries(response.content)}
        except (ParseError, DefusedXmlException):
            return MALFORMED if response.status_code < 300 else None
    if not response.content or "json" not in content_type:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return MALFORMED if response.status_code < 300 else None


ATOM = "{http://www.w3.org/2005/Atom}"


def _atom_entries(content: bytes) -> list[dict[str, Any]]:
    """Each entry of an Atom feed: ``id``, ``title``, ``updated`` and ``author`` (``name``, ``uri``),
    parsed without entities or DTDs (defusedxml)."""
    root = ElementTree.fromstring(content, forbid_dtd=True)

    def text(node: Any, name: str) -> str | None:
        found = node.find(ATOM + name)
        return found.text if found is not None else None

    entries = []
    for entry in root.iter(ATOM + "entry"):
        author = entry.find(ATOM + "author")
        entries.append(
            {
                "id": text(entry, "id"),
                "title": text(entry, "title"),
                "updated": text(entry, "updated"),
                "author": {"name": text(author, "name"), "uri": text(author, "uri")}
                if author is not None
                else None,
            }
        )
    return entries
