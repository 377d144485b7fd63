"""Route lookup in constant time for a long list of Starlette routes.

Starlette tries a router's routes one by one, about 2.8 µs each on the build machine: under
``/sites/{site}`` the 60th route, and every unknown path, cost 178 µs per request, more than the
rest of the request pipeline. ``RouteTable`` keeps Starlette's rule (the first route that matches in
full wins, else the first that matches all but the method, which answers 405) and remembers, per
method and path, which route that was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

CHOSEN = "sim.route"  # the scope key that carries the chosen route from matches() to handle()
CACHE_LIMIT = 50_000  # paths remembered before starting over (paths carry ids, and fuzzers send junk)


class RouteTable(BaseRoute):
    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = list(routes)
        # (type, method, root_path, path) -> (FULL | PARTIAL | NONE, index of the route)
        self.outcomes: dict[tuple[Any, ...], tuple[Match, int]] = {}

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # a route's answer depends on nothing else in the scope
        key = (scope["type"], scope.get("method"), scope.get("root_path", ""), scope["path"])
        outcome = self.outcomes.get(key)
        if outcome is None:
            outcome = self._scan(scope)
            if len(self.outcomes) >= CACHE_LIMIT:
                self.outcomes.clear()
            self.outcomes[key] = outcome
        kind, index = outcome
        if kind is Match.NONE:
            return Match.NONE, {}
        route = self.routes[index]
        _, child_scope = route.matches(scope)  # the path parameters of this request
        return kind, {**child_scope, CHOSEN: route}

    def _scan(self, scope: Scope) -> tuple[Match, int]:
        partial = None
        for index, route in enumerate(self.routes):
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, index
            if match is Match.PARTIAL and partial is None:
                partial = index
        return (Match.NONE, -1) if partial is None else (Match.PARTIAL, partial)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope[CHOSEN].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)
