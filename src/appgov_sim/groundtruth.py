"""Ground truth: per site and product, the count and digest of every data set; per site, what each
app's bot user holds (``app_users``) and how many accounts its groups have.

The digest is sha256 over the sorted natural keys (one per line), so a connector's copy can be
compared without shipping the data. Memberships count inactive users too (a connector reads them
with ``includeInactiveUsers=true``). Apps are listed by source (the plugin manager, the site's GraphQL
gateway) and as the inventory of both (``app_sets``).
Confluence audit records have no id on the wire and two may share a millisecond, so their key is
``creationDate`` and a digest of what the record says (``audit_key``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

from appgov_sim.routes.confluence import audit_facts
from appgov_sim.tenant.generate import natural_digest
from appgov_sim.tenant.model import AuditRecord, Site, Switches, Tenant


def audit_key(record: AuditRecord) -> str:
    """A Confluence audit record's natural key: its time and the first 16 hex digits of the sha256
    of its facts and author's account id as compact JSON with sorted keys (what a client can compute
    from the wire; the author's name and ``sysAdmin`` are left out as they change on re-reads)."""
    facts = {**audit_facts(record), "author": record.author_account_id}
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"))
    return f"{record.created_ms}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _entry(keys: list[str]) -> dict[str, Any]:
    return {"count": len(keys), "digest": natural_digest(keys)}


def jira_sets(site: Site, switches: Switches) -> dict[str, list[str]]:
    return {
        "users": list(site.user_ids),
        "groups": [g.group_id for g in site.groups],
        "memberships": [f"{g.group_id}:{m}" for g in site.groups for m in g.members],
        "application_roles": [r.key for r in site.application_roles],
        "permission_schemes": [str(s.scheme_id) for s in site.permission_schemes],
        "permission_grants": [
            f"{s.scheme_id}:{g.grant_id}" for s in site.permission_schemes for g in s.grants
        ],
        "project_roles": [str(r.role_id) for r in site.project_roles],
        "project_role_actors": [
            f"{p.project_id}:{role_id}:{kind}:{value}"
            for p in site.projects
            for role_id, actors in p.role_actors.items()
            for kind, value in actors
        ],
        "projects": [p.project_id for p in site.projects],
        "fields": [f.field_id for f in site.fields],
        "audit_records": [str(r.record_id) for r in switches.served_audit(site.jira_audit)],
        **app_sets(site, "jira", switches),
    }


def app_sets(site: Site, product: str, switches: Switches) -> dict[str, list[str]]:
    """What the plugin manager lists (``apps``), what the site's GraphQL gateway lists
    (``forge_installations``), and the inventory a client builds from both (``app_inventory``):
    every user-installed app, wherever the ``forge_apps`` switch shows Forge apps."""
    installed = [a for a in site.apps_for(product) if a.user_installed]
    return {
        "apps": [a.key for a in installed if switches.in_plugin_manager(a)],
        "forge_installations": [a.key for a in installed if switches.in_gateway(a)],
        "app_inventory": [a.key for a in installed],
    }


def confluence_sets(site: Site, switches: Switches) -> dict[str, list[str]]:
    return {
        "groups": [g.group_id for g in site.groups],
        "group_members": [f"{g.group_id}:{m}" for g in site.groups for m in g.members],
        "audit_records": [audit_key(r) for r in switches.served_audit(site.confluence_audit)],
        **app_sets(site, "confluence", switches),
    }


def app_users(site: Site) -> dict[str, Any]:
    """Per app bot user of the site: the group ids it is a member of, the application roles those
    give, the permission grants (``<scheme id>:<grant id>``) whose holder covers it, and whether it
    is an admin. A grant to a project role counts when the bot plays the role in some project,
    directly or through a group; a grant to ``anyone`` counts."""
    plays: dict[tuple[str, str], set[str]] = {}  # (actor type, account or group id) -> role ids
    for project in site.projects:
        for role_id, actors in project.role_actors.items():
            for actor in actors:
                plays.setdefault(actor, set()).add(str(role_id))
    bots = sorted({a.bot_account_id for a in site.apps if a.bot_account_id})
    return {bot: _access(site, bot, plays) for bot in bots}


def _access(site: Site, account_id: str, plays: dict[tuple[str, str], set[str]]) -> dict[str, Any]:
    groups = [g for g in site.groups if account_id in g.members]
    group_ids = {g.group_id for g in groups}
    roles = {r.key for r in site.application_roles if group_ids & set(r.groups)}
    played = set(plays.get(("atlassian-user-role-actor", account_id), set()))
    for group_id in group_ids:
        played |= plays.get(("atlassian-group-role-actor", group_id), set())
    holders = {
        ("anyone", None),
        ("user", account_id),
        *(("group", g.name) for g in groups),
        *(("applicationRole", key) for key in roles),
        *((("applicationRole", None),) if roles else ()),  # no parameter: any application role
        *(("projectRole", role_id) for role_id in played),
    }
    grants = [
        f"{s.scheme_id}:{g.grant_id}"
        for s in site.permission_schemes
        for g in s.grants
        if (g.holder_type, g.holder_parameter) in holders
    ]
    return {
        "groups": sorted(group_ids),
        "application_roles": sorted(roles),
        "permission_grants": sorted(grants),
        "admin": site.is_admin(account_id),
    }


def ground_truth(tenant: Tenant) -> dict[str, Any]:
    sites: dict[str, Any] = {}
    for site in tenant.sites:
        products: dict[str, Any] = {}
        if site.has("jira"):
            products["jira"] = {name: _entry(keys) for name, keys in jira_sets(site, tenant.switches).items()}
        if site.has("confluence"):
            products["confluence"] = {
                name: _entry(keys) for name, keys in confluence_sets(site, tenant.switches).items()
            }
        sites[site.name] = {
            "cloud_id": site.cloud_id,
            "products": products,
            # a site without Jira lists no users: its directory, to a client, is its groups' members
            "group_member_accounts": len({m for g in site.groups for m in g.members}),
            "app_users": app_users(site),
        }
    return {
        "profile": tenant.profile,
        "seed": tenant.seed,
        "hostile": tenant.hostile,
        "switches": asdict(tenant.switches),
        "sites": sites,
    }
