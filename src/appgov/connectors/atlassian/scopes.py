"""What each OAuth scope appgov asks for lets it read, in plain words (references §1.7): shown before
the consent so an administrator knows what Add grants. Every scope is read-only."""

from __future__ import annotations

from appgov.connectors.atlassian.oauth import READ_SCOPES

SCOPE_DATA: dict[str, str] = {
    "read:jira-user": "Jira users, their groups and your own profile (classic scope)",
    "read:jira-work": "Jira projects, fields and permission schemes (classic scope)",
    "read:application-role:jira": "Jira application roles (who has access to which Jira product)",
    "read:audit-log:jira": "the Jira audit log (who installed or changed apps, and when)",
    "read:avatar:jira": "avatars of Jira users, projects and fields",
    "read:field:jira": "Jira fields",
    "read:field-configuration:jira": "Jira field configurations",
    "read:group:jira": "Jira groups and their members",
    "read:instance-configuration:jira": "Jira's global settings",
    "read:issue-type:jira": "issue types of Jira projects",
    "read:issue-type-hierarchy:jira": "the Jira issue type hierarchy",
    "read:issue.time-tracking:jira": "Jira's time-tracking settings",
    "read:license:jira": "the plan of each Jira product",
    "read:permission:jira": "Jira global permissions",
    "read:permission-scheme:jira": "Jira permission schemes and their grants",
    "read:project:jira": "Jira projects",
    "read:project-category:jira": "Jira project categories",
    "read:project-role:jira": "Jira project roles and who holds them",
    "read:project-version:jira": "versions of Jira projects",
    "read:project.component:jira": "components of Jira projects",
    "read:project.property:jira": "properties of Jira projects",
    "read:user:jira": "Jira users",
    "read:user-configuration:jira": "Jira user preferences",
    "read:configuration:confluence": "Confluence's system settings",
    "read:space.setting:confluence": "Confluence look-and-feel settings",
    "read:group:confluence": "Confluence groups and their members",
    "read:user:confluence": "Confluence users (as group members)",
    "read:audit-log:confluence": "the Confluence audit log",
    "read:me": "who consented: your Atlassian account's name and email",
    "offline_access": "keep reading between your visits (a refresh token), until you disconnect",
}


def scope_table(scopes: tuple[str, ...] = READ_SCOPES) -> list[tuple[str, str]]:
    """(scope, what it reads) for every scope appgov asks for, in the order it asks."""
    return [(scope, SCOPE_DATA[scope]) for scope in scopes]
