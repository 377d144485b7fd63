"""Every OAuth 2.0 scope the simulator knows, with the data it gives access to (references §1.7).

The consent page shows each requested scope with its line here; ``/authorize`` refuses a scope that is
not in the catalogue (``invalid_scope``), as Atlassian refuses scopes the app has not been given.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    name: str
    product: str | None  # jira | confluence, or None for scopes outside a product (identity, tokens)
    classic: bool  # classic scopes ("Current") versus granular ones ("Beta")
    reads: str  # what the scope lets the app see or do, in one line


def _jira(name: str, reads: str, *, classic: bool = False) -> Scope:
    return Scope(name, "jira", classic, reads)


def _confluence(name: str, reads: str, *, classic: bool = False) -> Scope:
    return Scope(name, "confluence", classic, reads)


_CATALOGUE = (
    Scope("offline_access", None, True, "Keep access while you are away: the app gets a refresh token."),
    Scope("read:me", None, True, "Your Atlassian account profile: name, email address, picture, time zone."),
    Scope("read:account", None, True, "Your Atlassian account details and those of other users you see."),
    # Jira, classic
    _jira("read:jira-user", "Jira users and groups: names, email addresses, avatars.", classic=True),
    _jira("read:jira-work", "Jira projects, issues, fields, permissions and their settings.", classic=True),
    _jira("write:jira-work", "Create and edit Jira issues, comments and worklogs.", classic=True),
    _jira(
        "manage:jira-configuration",
        "Jira administration: audit log, application roles, license, permissions, global settings.",
        classic=True,
    ),
    _jira("manage:jira-project", "Create, edit and delete Jira projects and their components.", classic=True),
    _jira("manage:jira-webhook", "Register and manage Jira webhooks.", classic=True),
    # Jira, granular
    _jira("read:application-role:jira", "Jira application roles, their groups and seat counts."),
    _jira("read:audit-log:jira", "The Jira audit log: who changed what, including app installs."),
    _jira("read:avatar:jira", "Avatars of Jira users, projects and issue types."),
    _jira("read:field:jira", "Jira fields, system and custom."),
    _jira("read:field-configuration:jira", "Jira field configurations."),
    _jira("read:group:jira", "Jira groups and their members."),
    _jira("read:instance-configuration:jira", "Jira global settings and application properties."),
    _jira("read:issue-type:jira", "Jira issue types."),
    _jira("read:issue-type-hierarchy:jira", "The Jira issue type hierarchy."),
    _jira("read:issue.time-tracking:jira", "Jira time-tracking settings."),
    _jira("read:license:jira", "The Jira license and its user counts."),
    _jira("read:permission:jira", "Jira permissions and who holds them."),
    _jira("read:permission-scheme:jira", "Jira permission schemes and their grants."),
    _jira("read:project:jira", "Jira projects: keys, names, leads."),
    _jira("read:project-category:jira", "Jira project categories."),
    _jira("read:project-role:jira", "Jira project roles and their members."),
    _jira("read:project-version:jira", "Jira project versions."),
    _jira("read:project.component:jira", "Jira project components."),
    _jira("read:project.property:jira", "Properties stored on Jira projects."),
    _jira("read:user:jira", "Jira users: names, email addresses, account status."),
    _jira("read:user-configuration:jira", "Jira user preferences such as locale."),
    # Confluence, classic
    _confluence(
        "manage:confluence-configuration",
        "Confluence administration: system information, look and feel, global settings.",
        classic=True,
    ),
    _confluence("read:confluence-groups", "Confluence groups and their members.", classic=True),
    _confluence("write:confluence-groups", "Create and delete Confluence groups.", classic=True),
    _confluence("read:confluence-user", "Confluence users: names and email addresses.", classic=True),
    _confluence("read:confluence-space.summary", "Confluence space names and descriptions.", classic=True),
    _confluence(
        "read:confluence-content.all", "Confluence pages, blog posts and comments in full.", classic=True
    ),
    _confluence(
        "read:confluence-content.summary", "Titles and summaries of Confluence content.", classic=True
    ),
    _confluence("read:confluence-props", "Properties stored on Confluence content.", classic=True),
    _confluence("search:confluence", "Search results across Confluence content.", classic=True),
    _confluence("write:confluence-content", "Create and edit Confluence pages and blog posts.", classic=True),
    # Confluence, granular
    _confluence("read:audit-log:confluence", "The Confluence audit log: who changed what."),
    _confluence("read:configuration:confluence", "Confluence global settings and system information."),
    _confluence("read:group:confluence", "Confluence groups."),
    _confluence("read:space.setting:confluence", "Confluence space settings and look and feel."),
    _confluence("read:user:confluence", "Confluence users: names, email addresses."),
)

SCOPES: dict[str, Scope] = {scope.name: scope for scope in _CATALOGUE}


def parse_scope(raw: str) -> list[str]:
    """A space-separated scope parameter as a list, in the order asked, without repeats."""
    return list(dict.fromkeys(raw.split()))


def unknown_scopes(names: list[str]) -> list[str]:
    return [name for name in names if name not in SCOPES]


def products_of(names: list[str]) -> set[str]:
    """The products the scopes reach; empty when they are all identity or token scopes."""
    return {product for name in names if (product := SCOPES[name].product) is not None}


def scopes_for_products(names: list[str], products: tuple[str, ...]) -> list[str]:
    """The granted scopes that apply to a site with these products (accessible-resources)."""
    return [name for name in names if name in SCOPES and SCOPES[name].product in products]
