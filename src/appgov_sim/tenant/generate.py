"""Deterministic tenant generation from (profile, seed[, hostile]).

Nothing here reads the wall clock: every timestamp is relative to ``ANCHOR_MS``, so the same
inputs always give the same tenant and the same ground truth.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import uuid

from appgov_sim.tenant import catalog
from appgov_sim.tenant.hostile import hostile_link, hostile_name
from appgov_sim.tenant.model import (
    APP_AUDIT_KINDS,
    Account,
    ApiToken,
    ApplicationRole,
    AppListing,
    AppVersion,
    AuditRecord,
    Field,
    Group,
    InstalledApp,
    OAuthIntegration,
    Organization,
    OrgApiKey,
    OrgEvent,
    PermissionGrant,
    PermissionScheme,
    Project,
    ProjectCategory,
    ProjectRole,
    Site,
    Tenant,
    Vendor,
)
from appgov_sim.tenant.org_audit import app_event
from appgov_sim.tenant.profiles import PROFILES, SECONDARY, Profile

ANCHOR_MS = 1_780_272_000_000  # 2026-06-01T00:00:00Z: generated history ends here
DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
ORG_DOMAIN = "acme.example.com"
ADDONS_ADMIN_GROUP = "atlassian-addons-admin"
ADDONS_ROLE_ID = 10000  # atlassian-addons-project-access: Jira's project role of app bot users
CONFLUENCE_TWINS_EVERY = 20  # every 20th Confluence audit record shares its predecessor's millisecond

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Radia",
    "Edsger",
    "Frances",
    "Donald",
    "Hedy",
    "Tim",
    "Katherine",
    "Guido",
    "Anita",
    "Brian",
    "Shafi",
    "Leslie",
    "Mary",
    "Niklaus",
    "Sophie",
    "John",
    "Karen",
    "Vint",
    "Lynn",
    "Whitfield",
    "Joan",
    "Bjarne",
]
LAST_NAMES = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Perlman",
    "Dijkstra",
    "Allen",
    "Knuth",
    "Lamarr",
    "Berners-Lee",
    "Johnson",
    "Rossum",
    "Borg",
    "Kernighan",
    "Goldwasser",
    "Lamport",
    "Shaw",
    "Wirth",
    "Wilson",
    "Backus",
    "Jones",
    "Cerf",
    "Conway",
    "Diffie",
    "Clarke",
    "Stroustrup",
]
WORDS = [
    "atlas",
    "beacon",
    "comet",
    "delta",
    "ember",
    "falcon",
    "galaxy",
    "harbor",
    "iris",
    "juniper",
    "kepler",
    "lotus",
    "meridian",
    "nova",
    "orbit",
    "prism",
    "quartz",
    "raven",
    "sierra",
    "tundra",
    "umbra",
    "vertex",
    "willow",
    "xenon",
    "yonder",
    "zephyr",
]


def account_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def secret(rng: random.Random, prefix: str, length: int = 40) -> str:
    return prefix + f"{rng.getrandbits(length * 4):0{length}x}"


def generate(profile_name: str, seed: int, hostile: bool = False) -> Tenant:
    """Build the tenant: one organization, three sites (both products, Jira only, Confluence only)."""
    profile = PROFILES[profile_name]
    # hostile is not in the seeds: a hostile tenant has the plain tenant's keys, only its names differ
    rng = random.Random(f"tenant:{profile_name}:{seed}")
    accounts: dict[str, Account] = {}
    people = _fixed_accounts(rng, accounts)
    vendors = _vendors(rng)
    listings = _listings(rng, profile, vendors)
    if hostile:
        _make_hostile(random.Random(f"hostile:{profile_name}:{seed}"), vendors, listings)
    specs = (
        (
            "acme",
            ("jira", "confluence"),
            profile,
            {"jira-software": "PAID", "jira-servicedesk": "FREE", "confluence": "PAID"},
        ),
        ("acme-eng", ("jira",), SECONDARY, {"jira-software": "FREE"}),
        ("acme-wiki", ("confluence",), SECONDARY, {"confluence": "PAID"}),
    )
    sites = [
        SiteBuilder(random.Random(f"site:{profile_name}:{seed}:{name}"), accounts, people, listings).build(
            name, products, size, plans
        )
        for name, products, size, plans in specs
    ]
    org = _organization(rng, profile, accounts)
    # a stream of its own (and a hostile one), so the rest of the tenant stays as it was
    org.api_keys = _org_api_keys(
        random.Random(f"org-keys:{profile_name}:{seed}"),
        [people[0], people[2]],  # the org admins: Ada Admin and Eve Expired
        random.Random(f"hostile-keys:{profile_name}:{seed}") if hostile else None,
    )
    _app_history(org, sites)
    return Tenant(profile_name, seed, hostile, org, accounts, sites, listings, vendors)


def _fixed_accounts(rng: random.Random, accounts: dict[str, Account]) -> list[str]:
    """The accounts tests sign in as: a site admin, an ordinary user, an admin whose token expired."""
    fixed = (
        ("Ada Admin", "ada.admin", YEAR_MS),
        ("Olly Ordinary", "olly.ordinary", YEAR_MS),
        ("Eve Expired", "eve.expired", -DAY_MS),
    )
    ids = []
    for name, local, token_life in fixed:
        acc = Account(
            account_id(rng), name, f"{local}@{ORG_DOMAIN}", time_zone="Europe/London", locale="en_GB"
        )
        acc.password = secret(rng, "pw-", 16)
        created = ANCHOR_MS - 30 * DAY_MS
        acc.api_tokens.append(
            ApiToken(uuid4(rng), "appgov", secret(rng, "ATATT3x", 48), created, ANCHOR_MS + token_life)
        )
        accounts[acc.account_id] = acc
        ids.append(acc.account_id)
    return ids


def _vendors(rng: random.Random) -> dict[int, Vendor]:
    names = (
        "Atlassian",
        "Tempo Software",
        "Adaptavist",
        "Appfire",
        "Elements",
        "Midori",
        "resolution",
        "Deiser",
        "Old Street Solutions",
        "Herzum",
        "Seibert Media",
        "Refined",
        "K15t",
        "Gliffy",
        "Easy Agile",
        "Comala",
        "Draw.io Labs",
        "Xpand IT",
        "Botron",
        "Decadis",
    )
    vendors = {}
    for i, name in enumerate(names):
        vid = 1000 + i * 17
        slug = name.lower().replace(" ", "").replace(".", "")
        vendor = Vendor(
            vid,
            name,
            f"https://www.{slug}.example",
            f"support@{slug}.example",
            is_atlassian=name == "Atlassian",
            top_vendor=i % 4 == 0,
            partner_tier=("PLATINUM", "GOLD", "SILVER", None)[i % 4],
        )
        vendors[vid] = vendor
    return vendors


def _listings(rng: random.Random, profile: Profile, vendors: dict[int, Vendor]) -> dict[str, AppListing]:
    """Every app of the tenant: Connect and Forge apps (some private), plus OAuth 2.0 integrations."""
    listings: dict[str, AppListing] = {}
    vendor_list = list(vendors.values())
    total = profile.connect_forge_apps + profile.oauth_integrations + 2 * SECONDARY.connect_forge_apps
    for i in range(total):
        vendor = vendor_list[i % len(vendor_list)]
        framework = "oauth" if i % 9 == 8 else ("forge" if i % 3 == 1 else "connect")
        base = f"{rng.choice(WORDS).title()} {rng.choice(catalog.APP_NOUNS)}"
        slug = base.lower().replace(" ", "-")
        if framework == "forge":
            key = f"ari:cloud:ecosystem::app/{uuid4(rng)}"
        elif framework == "oauth":
            key = f"{rng.getrandbits(128):032x}"  # an OAuth 2.0 client id
        else:
            key = f"com.{vendor.name.lower().replace(' ', '').replace('.', '')[:12]}.{slug}-{i}"
        versions = _versions(rng, framework, i)
        listings[key] = AppListing(
            key=key,
            name=base,
            summary=f"{base} for teams that ship.",
            description=f"<p>{base} helps you.</p>",
            vendor=vendor,
            products=["jira"] if i % 5 < 3 else ["confluence"],
            versions=versions,
            private=framework != "oauth" and i % 7 == 3,
            cloud_fortified=i % 4 == 0,
            bug_bounty=i % 4 in (0, 1),
            privacy_and_security=i % 6 != 5,
            total_installs=rng.randint(10, 60_000),
            total_users=rng.randint(100, 2_000_000),
            rating=round(rng.uniform(2.5, 4.9), 1),
            rating_count=rng.randint(0, 900),
            marketplace_id=1_210_000 + i,
            icon_link=f"https://marketplace.example/icons/{i}.png",
        )
    return listings


def _make_hostile(rng: random.Random, vendors: dict[int, Vendor], listings: dict[str, AppListing]) -> None:
    """Rewrite the vendor-controlled text, from a random stream of its own, before sites copy it."""
    for i, vendor in enumerate(vendors.values()):
        if i % 3 == 1:
            vendor.name = hostile_name(rng, vendor.name)
            vendor.link = hostile_link(rng)
    for i, listing in enumerate(listings.values()):
        if i % 2 == 0:
            listing.name = hostile_name(rng, listing.name)
        if i % 4 == 0:
            listing.summary = hostile_name(rng, listing.summary)
        listing.description = hostile_name(rng, listing.description)
        if i % 5 == 0:
            listing.icon_link = hostile_link(rng)


def _versions(rng: random.Random, framework: str, index: int) -> list[AppVersion]:
    """Versions oldest first; later versions may widen the declared scopes."""
    count = 25 if index == 0 else rng.randint(1, 4)  # one listing pages its versions
    pool = catalog.SCOPE_POOLS[framework]
    scopes = sorted(rng.sample(pool[:4], rng.randint(1, 3)))
    released = ANCHOR_MS - 700 * DAY_MS + rng.randint(0, 100) * DAY_MS
    versions = []
    for n in range(count):
        if n and rng.random() < 0.35:
            scopes = sorted({*scopes, rng.choice(pool)})
        egress = sorted(rng.sample(catalog.EGRESS_DOMAINS, rng.randint(0, 3))) if framework == "forge" else []
        versions.append(
            AppVersion(
                name=f"{1 + n // 10}.{n % 10}.{rng.randint(0, 9)}",
                build_number=1_000 + n * 7,
                release_ms=released,
                framework=framework,
                scopes=list(scopes),
                egress=egress,
                release_notes=f"Release {n + 1}",
            )
        )
        released += rng.randint(5, 40) * DAY_MS
    return versions


def _organization(rng: random.Random, profile: Profile, accounts: dict[str, Account]) -> Organization:
    org = Organization(
        uuid4(rng), "Acme", [ORG_DOMAIN, "acme-labs.example.com"], secret(rng, "ATCOAPIKEY", 40)
    )
    humans = [a.account_id for a in accounts.values() if a.account_type == "atlassian"]
    actions = (
        "api_token_created",
        "api_token_revoked",
        "user_added_to_group",
        "user_invited",
        "site_admin_granted",
    )
    span = YEAR_MS // max(1, profile.org_events)
    for i in range(profile.org_events):
        actor = accounts[rng.choice(humans)]
        action = actions[i % len(actions)]
        org.events.append(
            OrgEvent(
                uuid4(rng),
                ANCHOR_MS - YEAR_MS + i * span + rng.randint(0, span - 1),
                action,
                actor.account_id,
                f"{actor.display_name} {action.replace('_', ' ')}",
                rng.choice(humans),
            )
        )
    return org


# the scopes an org API key may have [I]: the simulator's own pool, not Atlassian's published list;
# appgov's key has the read ones docs/atlassian-setup.md asks for
APPGOV_KEY_SCOPES = ("read:events:admin", "read:orgs:admin", "read:tokens:admin")
ORG_KEY_SCOPES = (*APPGOV_KEY_SCOPES, "read:users:admin", "write:users:admin")
ORG_KEY_LABELS = ("appgov", "SCIM provisioning", "Audit log export", "Terraform", "Offboarding script")


def _org_api_keys(rng: random.Random, admins: list[str], hostile: random.Random | None) -> list[OrgApiKey]:
    """A few organization API keys, the first the one appgov connects with (``Organization.api_key``),
    created by the org admins; some expired, some never used. Hostile labels from ``hostile``."""
    keys = []
    for i, label in enumerate(ORG_KEY_LABELS[: rng.randint(3, len(ORG_KEY_LABELS))]):
        created = ANCHOR_MS - rng.randint(30, 420) * DAY_MS
        expires = created + YEAR_MS
        used = i == 0 or rng.random() < 0.7
        keys.append(
            OrgApiKey(
                uuid4(rng),
                hostile_name(hostile, label) if hostile and i % 2 == 1 else label,
                admins[0] if i == 0 else rng.choice(admins),
                created,
                ANCHOR_MS + YEAR_MS if i == 0 else expires,  # appgov's key is valid
                min(ANCHOR_MS, expires) - rng.randint(0, 20) * DAY_MS if used else None,
                account_id(rng),
                list(APPGOV_KEY_SCOPES) if i == 0 else sorted(rng.sample(ORG_KEY_SCOPES, rng.randint(1, 3))),
            )
        )
    return keys


def _app_history(org: Organization, sites: list[Site]) -> None:
    """The "App actions" of the organization's audit log for the apps the sites were built with:
    each app's installation and, for a disabled one, its disabling (the upgrades are left out)."""
    for site in sites:
        for app in site.apps:
            if app.user_installed:
                app_event(org, site, app, "app_install_success", app.installed_by, app.installed_ms)
                if not app.enabled:
                    app_event(org, site, app, "app_disable_success", app.installed_by, ANCHOR_MS - DAY_MS)
    org.events.sort(key=lambda e: e.time_ms)


class SiteBuilder:
    """Builds one site's directory, Jira configuration, apps and audit history."""

    def __init__(
        self,
        rng: random.Random,
        accounts: dict[str, Account],
        people: list[str],
        listings: dict[str, AppListing],
    ) -> None:
        self.rng = rng
        self.accounts = accounts
        self.admin, self.ordinary, self.expired = people
        self.listings = listings
        self.audit: dict[str, list[AuditRecord]] = {"jira": [], "confluence": []}

    def build(self, name: str, products: tuple[str, ...], size: Profile, plans: dict[str, str]) -> Site:
        rng = self.rng
        site = Site(
            name,
            uuid4(rng),
            f"Acme {name}",
            products,
            plans,
            edition="standard",
            created_ms=ANCHOR_MS - 2 * YEAR_MS,
        )
        humans = self._humans(size)
        site.user_ids = [self.admin, self.ordinary, self.expired, *humans]
        self._groups(site, size, humans)
        self._apps(site, size)
        if site.has("jira"):
            self._jira_configuration(site, size, humans)
            site.groups.append(addons_admins(site))
        for product, count in (("jira", size.jira_audit), ("confluence", size.confluence_audit)):
            if site.has(product):
                self._fill_audit(site, product, count, humans)
        site.jira_audit = self._sorted_audit("jira", 10_000)
        site.confluence_audit = self._sorted_audit("confluence", 1, twins_every=CONFLUENCE_TWINS_EVERY)
        return site

    def _humans(self, size: Profile) -> list[str]:
        rng, ids = self.rng, []
        for i in range(size.users):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            kind = "customer" if i % 97 == 96 else "atlassian"
            acc = Account(
                account_id(rng),
                f"{first} {last}",
                f"{first}.{last}.{i}@{ORG_DOMAIN}".lower(),
                account_type=kind,
                active=i % 19 != 7,
                last_active_ms=ANCHOR_MS - rng.randint(0, 200) * DAY_MS,
            )
            if i % 20 == 0 and i < 10_000:
                acc.api_tokens.append(
                    ApiToken(
                        uuid4(rng),
                        f"token-{i}",
                        secret(rng, "ATATT3x", 48),
                        ANCHOR_MS - rng.randint(1, 300) * DAY_MS,
                        ANCHOR_MS + YEAR_MS,
                        last_access_ms=ANCHOR_MS - rng.randint(0, 30) * DAY_MS,
                    )
                )
            self.accounts[acc.account_id] = acc
            ids.append(acc.account_id)
        return ids

    def _groups(self, site: Site, size: Profile, humans: list[str]) -> None:
        rng = self.rng
        fixed: list[tuple[str, list[str]]] = [("site-admins", [self.admin, self.expired])]
        if site.has("jira"):
            fixed += [("jira-admins", [self.admin]), ("jira-software-users", [self.admin, self.ordinary])]
        if site.has("confluence"):
            fixed += [("confluence-admins", [self.admin]), ("confluence-users", [self.admin, self.ordinary])]
        for group_name, members in fixed:
            site.groups.append(Group(uuid4(rng), group_name, list(members)))
        remaining = size.memberships - sum(len(g.members) for g in site.groups)
        generated = size.groups - len(site.groups)
        weights = [rng.paretovariate(1.2) for _ in range(generated - 1)]
        budget = max(0, remaining - size.big_group)
        scale = budget / sum(weights) if weights else 0.0
        sizes = [size.big_group] + [min(len(humans) // 2, max(1, round(w * scale))) for w in weights]
        for i, count in enumerate(sizes):
            group_name = f"team-{rng.choice(WORDS)}-{i}" if i else "engineering-all"
            site.groups.append(
                Group(
                    uuid4(rng),
                    group_name,
                    rng.sample(humans, min(count, len(humans))),
                    usage_type="TEAM_COLLABORATION" if i % 5 == 4 else "USERBASE_GROUP",
                )
            )
            self._audit("jira", "group_created", self.admin, site.groups[-1].group_id, group_name)
            self._audit("confluence", "group_created", self.admin, site.groups[-1].group_id, group_name)

    def _apps(self, site: Site, size: Profile) -> None:
        rng = self.rng
        plugin_apps = [k for k, v in self.listings.items() if v.versions[0].framework != "oauth"]
        oauth_apps = [k for k, v in self.listings.items() if v.versions[0].framework == "oauth"]
        for product in site.products:
            for key, name in catalog.SYSTEM_PLUGINS[product]:
                site.apps.append(
                    InstalledApp(
                        key,
                        product,
                        name,
                        "1.0.0",
                        "Atlassian",
                        "https://www.atlassian.com",
                        f"{name} (bundled)",
                        True,
                        False,
                        site.created_ms,
                        self.admin,
                        "system",
                    )
                )
        chosen = rng.sample(plugin_apps, min(size.connect_forge_apps, len(plugin_apps)))
        for key in chosen:
            listing = self.listings[key]
            product = listing.products[0] if listing.products[0] in site.products else site.products[0]
            self._install(site, listing, product)
        for key in rng.sample(oauth_apps, min(size.oauth_integrations, len(oauth_apps))):
            listing = self.listings[key]
            when = ANCHOR_MS - rng.randint(10, 300) * DAY_MS
            site.oauth_integrations.append(
                OAuthIntegration(
                    key, listing.name, listing.vendor.name, listing.latest.scopes, self.admin, when
                )
            )
            self._audit(site.products[0], "oauth_authorized", self.admin, key, listing.name, when=when)

    def _install(self, site: Site, listing: AppListing, product: str) -> None:
        rng = self.rng
        installed = rng.randrange(max(1, len(listing.versions) - 2), len(listing.versions) + 1)
        history = listing.versions[:installed]
        when = max(history[0].release_ms, site.created_ms) + rng.randint(0, 30) * DAY_MS
        bot = Account(account_id(rng), listing.name[:200], "", account_type="app", app_type="service")
        self.accounts[bot.account_id] = bot
        site.user_ids.append(bot.account_id)
        app = InstalledApp(
            listing.key,
            product,
            listing.name,
            history[-1].name,
            listing.vendor.name,
            listing.vendor.link,
            listing.summary,
            enabled=rng.random() > 0.1,
            user_installed=True,
            installed_ms=when,
            installed_by=self.admin,
            framework=history[0].framework,
            bot_account_id=bot.account_id,
            modules=["general-page", "web-panel"],
        )
        site.apps.append(app)
        self._audit(
            product, "app_installed", self.admin, listing.key, listing.name, history[0].name, when=when
        )
        for previous, version in itertools.pairwise(history):
            upgraded = max(version.release_ms, when + DAY_MS)
            self._audit(
                product,
                "app_upgraded",
                self.admin,
                listing.key,
                listing.name,
                version.name,
                previous.name,
                when=upgraded,
            )
        if not app.enabled:
            self._audit(
                product, "app_disabled", self.admin, listing.key, listing.name, when=ANCHOR_MS - DAY_MS
            )

    def _jira_configuration(self, site: Site, size: Profile, humans: list[str]) -> None:
        rng = self.rng
        admins, users = site.group_by_name("jira-admins"), site.group_by_name("jira-software-users")
        assert admins is not None
        assert users is not None
        site.application_roles = [
            ApplicationRole(
                "jira-software",
                "Jira Software",
                [users.group_id, admins.group_id],
                [users.group_id],
                35_000,
                len(users.members),
            ),
            ApplicationRole(
                "jira-servicedesk",
                "Jira Service Management",
                [admins.group_id],
                [admins.group_id],
                3,
                len(admins.members),
            ),
        ]
        bots = [a.bot_account_id for a in site.apps if a.product == "jira" and a.bot_account_id]
        site.project_roles = [
            ProjectRole(
                10002,
                "Administrators",
                "Admins of the project",
                [("atlassian-group-role-actor", admins.group_id)],
            ),
            ProjectRole(10100, "Member", "Contributors to the project", []),
            ProjectRole(
                10101, "Viewer", "Can browse the project", [("atlassian-group-role-actor", users.group_id)]
            ),
            ProjectRole(
                ADDONS_ROLE_ID,
                "atlassian-addons-project-access",
                "A project role that represents Connect add-ons declaring access to projects",
                [("atlassian-user-role-actor", b) for b in bots],
            ),
        ]
        site.permission_schemes = [self._scheme(i, site) for i in range(size.permission_schemes)]
        site.fields = [Field(fid, fname, False, ftype, fid) for fid, fname, ftype in catalog.SYSTEM_FIELDS]
        for i in range(size.custom_fields):
            ctype, schema_type = catalog.CUSTOM_FIELD_TYPES[i % len(catalog.CUSTOM_FIELD_TYPES)]
            site.fields.append(
                Field(
                    f"customfield_{10_000 + i}",
                    f"{rng.choice(WORDS).title()} {i}",
                    True,
                    schema_type,
                    custom_type=ctype,
                    custom_id=10_000 + i,
                )
            )
        categories = [
            ProjectCategory(str(10_000 + i), w.title(), f"{w} projects") for i, w in enumerate(WORDS[:5])
        ]
        team_groups = [g.group_id for g in site.groups[len(site.groups) // 2 :]] or [users.group_id]
        for i in range(size.projects):
            key = _project_key(i)
            lead = rng.choice(humans)
            project = Project(
                str(10_000 + i),
                key,
                f"{rng.choice(WORDS).title()} {key}",
                lead,
                rng.choice([*categories, None]),
                rng.choice(("classic", "classic", "next-gen")),
                rng.choice(("software", "software", "business", "service_desk")),
                rng.randint(0, 20_000),
                ANCHOR_MS - rng.randint(0, 300) * DAY_MS,
                site.permission_schemes[i % len(site.permission_schemes)].scheme_id,
            )
            project.role_actors = {
                10002: [("atlassian-group-role-actor", admins.group_id), ("atlassian-user-role-actor", lead)],
                10100: [("atlassian-user-role-actor", u) for u in rng.sample(humans, min(3, len(humans)))]
                + [("atlassian-group-role-actor", rng.choice(team_groups))],
                10101: [("atlassian-group-role-actor", users.group_id)],
                ADDONS_ROLE_ID: [("atlassian-user-role-actor", b) for b in bots[:3]],
            }
            site.projects.append(project)
            self._audit("jira", "project_created", lead, project.project_id, project.name)

    def _scheme(self, index: int, site: Site) -> PermissionScheme:
        name = (
            "Default Permission Scheme" if index == 0 else f"{self.rng.choice(WORDS).title()} scheme {index}"
        )
        scheme = PermissionScheme(10_000 + index, name, f"Permissions for {name}")
        holders: list[tuple[str, str | None]] = [
            ("projectRole", "10002"),
            ("projectRole", "10100"),
            ("group", "jira-admins"),
            ("applicationRole", "jira-software"),
            ("projectLead", None),
        ]
        if index % 3 == 2:
            holders.append(("anyone", None))  # a risky scheme: anonymous access
        grant_id = 10_000 + index * 1_000
        for n, permission in enumerate(catalog.PROJECT_PERMISSIONS):
            for holder_type, parameter in holders[: 1 + ((n + index) % len(holders) if index else 2)]:
                scheme.grants.append(PermissionGrant(grant_id, permission, holder_type, parameter))
                grant_id += 1
        # as Jira's schemes do: apps browse the projects whose add-ons role lists their bot
        scheme.grants.append(PermissionGrant(grant_id, "BROWSE_PROJECTS", "projectRole", str(ADDONS_ROLE_ID)))
        return scheme

    def _fill_audit(self, site: Site, product: str, count: int, humans: list[str]) -> None:
        rng = self.rng
        kinds = (
            "member_added",
            "user_created",
            "scheme_updated" if product == "jira" else "permission_changed",
        )
        # ``count`` records besides the app changes, which the log shows only with a switch
        # (model.Switches.app_audit_records): served or not, the log holds ``count`` others
        apps = [r for r in self.audit[product] if r.kind in APP_AUDIT_KINDS]
        others = [r for r in self.audit[product] if r.kind not in APP_AUDIT_KINDS]
        self.audit[product] = others
        while len(self.audit[product]) < count:
            user = rng.choice(humans)
            group = rng.choice(site.groups)
            kind = kinds[len(self.audit[product]) % len(kinds)]
            self._audit(product, kind, self.admin, user, self.accounts[user].display_name, group.name)
        del self.audit[product][count:]
        self.audit[product] += apps

    def _audit(
        self,
        product: str,
        kind: str,
        author: str,
        object_id: str,
        object_name: str,
        detail: str = "",
        extra: str = "",
        when: int | None = None,
    ) -> None:
        created = when if when is not None else ANCHOR_MS - self.rng.randint(0, YEAR_MS)
        self.audit[product].append(
            AuditRecord(0, min(created, ANCHOR_MS), kind, author, object_id, object_name, detail, extra)
        )

    def _sorted_audit(self, product: str, first_id: int, twins_every: int = 0) -> list[AuditRecord]:
        """The log oldest first, with distinct creation times except that every ``twins_every``-th
        record shares its predecessor's millisecond (Confluence's records carry no id: a client
        that keys them by time alone loses one of the two)."""
        records = sorted(self.audit[product], key=lambda r: r.created_ms)
        newest = other = 0  # the newest time so far, and that of the newest record but app changes
        others = 0
        for record in records:
            # twins are counted among the records but app changes, so that they are twins whether the
            # log shows app changes or not (the switch); an app change between them moves after both
            if record.kind in APP_AUDIT_KINDS:
                record.created_ms = newest = max(record.created_ms, newest + 1)
                continue
            twin = twins_every and others % twins_every == twins_every - 1
            others += 1
            record.created_ms = other = other if twin else max(record.created_ms, newest + 1)
            newest = max(newest, other)
        records.sort(key=lambda r: r.created_ms)
        for i, record in enumerate(records):
            record.record_id = first_id + i
        return records


def addons_admins(site: Site) -> Group:
    """Jira's ``atlassian-addons-admin`` group, with the bot user of every Connect app of Jira (as
    Atlassian makes them members). Its id derives from the site's, so that adding it draws nothing
    from the generator's random sequence and leaves the rest of the tenant as it was."""
    bots = [a.bot_account_id for a in site.apps_for("jira") if a.framework == "connect" and a.bot_account_id]
    group_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{site.cloud_id}/{ADDONS_ADMIN_GROUP}"))
    return Group(group_id, ADDONS_ADMIN_GROUP, bots)


def _project_key(index: int) -> str:
    letters = ""
    n = index
    while True:
        letters = chr(ord("A") + n % 26) + letters
        n = n // 26 - 1
        if n < 0:
            break
    return f"P{letters}"


def natural_digest(keys: list[str]) -> str:
    """The ground-truth digest: sha256 over the sorted natural keys, one per line."""
    h = hashlib.sha256()
    for key in sorted(keys):
        h.update(key.encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()
