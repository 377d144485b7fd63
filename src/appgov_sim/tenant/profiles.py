"""Tenant sizes. The primary site gets the profile's size; the secondary sites stay small.

``small`` is sized so that every paginated endpoint needs at least three pages at its maximum
page size (see ``appgov_sim.paging.CAPS``).
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    users: int
    groups: int
    big_group: int  # one group this large, to page group/member
    memberships: int  # total group memberships on the site
    projects: int
    connect_forge_apps: int  # user-installed plugin-manager apps, across Jira and Confluence
    oauth_integrations: int
    jira_audit: int
    confluence_audit: int
    custom_fields: int
    permission_schemes: int
    org_events: int


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("tiny", 30, 8, 12, 70, 6, 8, 2, 60, 40, 12, 2, 30),
        Profile("small", 2_500, 150, 120, 6_000, 250, 24, 4, 2_500, 2_500, 120, 6, 250),
        Profile("medium", 8_000, 600, 400, 50_000, 500, 60, 8, 20_000, 10_000, 400, 20, 1_000),
        Profile("large", 20_000, 2_000, 1_500, 200_000, 1_000, 150, 12, 100_000, 30_000, 1_000, 50, 5_000),
        Profile(
            "xl", 100_000, 10_000, 6_000, 1_000_000, 5_000, 300, 20, 500_000, 150_000, 3_000, 200, 20_000
        ),
    )
}

# The secondary sites (Jira only, Confluence only) are always this size.
SECONDARY = PROFILES["tiny"]
