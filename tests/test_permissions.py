"""Every route of the console, and every operation of the REST API's OpenAPI document, declares the
permission it needs through the one ``require`` dependency (AZ-01), and each role holds exactly its
row of the permission table in docs/security.md."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from appgov.accounts.permissions import Permission, Role, holds
from appgov.accounts.principal import SCHEDULER, Principal, Via, cli_user
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.web.app import create_app

# signing in and out needs no permission (with a password or through the identity provider), nor does
# accepting an invitation or the first admin's setup link (the link is the credential), nor the home
# page (a redirect to /integrations)
OPEN = {
    ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/"),
    ("GET", "/login/sso"), ("GET", "/login/sso/callback"),
    ("GET", "/invitations/{token}"), ("POST", "/invitations/{token}"),
    ("GET", "/setup/{token}"), ("POST", "/setup/{token}"),
}  # fmt: skip


def declared(dependant: Dependant) -> Iterator[Permission]:
    for dependency in dependant.dependencies:
        permission = getattr(dependency.call, "permission", None)
        if isinstance(permission, Permission):
            yield permission
        yield from declared(dependency)


def test_every_route_but_sign_in_declares_exactly_one_permission(tmp_path: Path) -> None:
    app = create_app(Runtime.start(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'db'}")))
    routes = [
        (context.path, context.original_route)
        for context in iter_route_contexts(app.routes)  # the included routers' routes too
        if isinstance(context.original_route, APIRoute)
    ]
    permissions = {
        (method, path): list(declared(route.dependant)) for path, route in routes for method in route.methods
    }

    missing = sorted(route for route, found in permissions.items() if len(found) != 1 and route not in OPEN)
    assert missing == []
    assert {route for route, found in permissions.items() if not found} == OPEN
    assert permissions[("POST", "/domains/{domain_id}/delete")] == [Permission.DOMAINS_MANAGE]
    assert permissions[("DELETE", "/api/v1/domains/{domain_id}")] == [Permission.DOMAINS_MANAGE]
    assert permissions[("POST", "/api/v1/domains/{domain_id}/sync")] == [Permission.DOMAINS_SYNC]
    assert permissions[("GET", "/apps/export.csv")] == [Permission.READ]

    # the REST API's own document: each operation it describes is a route that declares its permission
    operations = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    assert operations
    assert sorted(op for op in operations if len(permissions.get(op, [])) != 1) == []


def test_roles_grant_their_table_and_no_role_or_system_actor_holds_the_revocation_right() -> None:
    def role(name: Role) -> Principal:
        return Principal("ada@example.com", Via.CONSOLE, user_id=1, role=name)

    granted = {name: {p for p in Permission if holds(role(name), p)} for name in Role}
    assert granted[Role.VIEWER] == {Permission.READ, Permission.OWN_ACCOUNT}
    assert granted[Role.ANALYST] == granted[Role.VIEWER] | {Permission.DOMAINS_SYNC, Permission.TRIAGE}
    assert granted[Role.ADMIN] == set(Permission) - {Permission.APPS_REVOKE}
    assert not any(
        holds(actor, permission) for actor in (SCHEDULER, cli_user("root")) for permission in Permission
    )
