"""The app inventory as one query: every app across domains with its domain, its status, who
installed it (account id and the name the sync stored), whether its Marketplace enrichment is
pending, and its vendor's links; filtered, sorted and paged in the database. The Apps page, the REST
API and the exports all read apps through it, so they agree on what an app's status is and which
apps a filter selects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, case, func, select
from sqlalchemy.orm import Session, aliased

from appgov.outcomes import Code, Outcome, words
from appgov.storage.models import App, Domain, Record

# The one status rule: a removed app is removed whatever its last enabled flag said.
status_rule: ColumnElement[str] = case(
    (App.removed_at.is_not(None), "removed"), (App.enabled.is_(True), "enabled"), else_="disabled"
)
STATUSES = ("enabled", "disabled", "removed")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# The plugin manager's own row for the app (its vendor links). The installer's name is the one the
# sync stored (connectors/atlassian/apps.py looks it up once, after the directory is in).
_plugin = aliased(Record, name="plugin")
_INSTALLER_NAME = App.installed_by_name
_VENDOR_LINK = _plugin.data[("vendor", "link")].as_string()
_VENDOR_MARKETPLACE = _plugin.data[("vendor", "marketplaceLink")].as_string()

# Sortable columns by the name the page and the API use; text sorts ignore case.
SORTS: dict[str, SQLColumnExpression[Any]] = {
    "name": func.lower(App.name),
    "key": App.key,
    "vendor": func.lower(App.vendor),
    "framework": App.framework,
    "scopes": func.json_array_length(App.scopes),
    "domain": func.lower(Domain.name),
    "installed_by": func.lower(func.coalesce(_INSTALLER_NAME, App.installed_by)),
    "installed_at": App.installed_at,
    "first_seen": App.first_seen_at,
    "last_seen": App.last_seen_at,
    "status": status_rule,
}


@dataclass(frozen=True)
class AppFilter:
    """Which apps: on one domain, in one status, and/or whose name, vendor, key or installer's name
    contains ``text``."""

    domain_id: int | None = None
    status: str | None = None
    text: str = ""


@dataclass(frozen=True)
class AppOrder:
    column: str = "name"
    descending: bool = False


@dataclass(frozen=True)
class AppRow:
    """One app on one domain, as every reader of the inventory sees it. Text is upstream-controlled."""

    id: int
    domain_id: int
    domain: str
    product: str
    key: str
    name: str
    vendor: str | None
    vendor_link: str | None
    vendor_marketplace_link: str | None
    framework: str | None
    scopes: list[str] | None  # None: unknown (neither the gateway nor the Marketplace says)
    version: str | None
    installed_by: str | None  # the installer's Atlassian account id
    installed_by_name: str | None  # and their display name, when the source or directory gives it
    installed_at: datetime | None
    first_seen: datetime
    last_seen: datetime
    status: str
    # None: enriched from the Marketplace by the last sync; "enrichment_pending": the Marketplace
    # asked to wait, the next sync enriches it (framework, scopes and listing may be older)
    enrichment: str | None = None
    egress: list[str] | None = None  # the domains the app may reach; None: unknown
    scopes_source: str | None = None  # gateway | marketplace; None: scopes and egress unknown
    # org_audit | gateway | upm_feed; None: unknown, for installer_unknown_reason
    installed_source: str | None = None
    installer_unknown_reason: str | None = None


@dataclass(frozen=True)
class AppPage:
    rows: list[AppRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def _filtered(where: AppFilter) -> Select[Any]:
    query = (
        select(App, Domain.name, status_rule, _INSTALLER_NAME, _VENDOR_LINK, _VENDOR_MARKETPLACE)
        .join(Domain, Domain.id == App.domain_id)
        .outerjoin(
            _plugin,
            (_plugin.domain_id == App.domain_id)
            & (_plugin.dataset == App.dataset)
            & (_plugin.key == App.key),
        )
    )
    if where.domain_id is not None:
        query = query.where(App.domain_id == where.domain_id)
    if where.status:
        query = query.where(status_rule == where.status)
    text = where.text.strip()
    if text:
        query = query.where(
            App.name.icontains(text, autoescape=True)
            | App.vendor.icontains(text, autoescape=True)
            | App.key.icontains(text, autoescape=True)
            | _INSTALLER_NAME.icontains(text, autoescape=True)
        )
    return query


def _ordered(query: Select[Any], order: AppOrder | None) -> Select[Any]:
    if order is None:  # the exports' order: by domain, then product, then key
        return query.order_by(Domain.name, App.product, App.key)
    column = SORTS[order.column]
    ranked = column.desc() if order.descending else column.asc()
    # empty values last either way; the id breaks ties so pages never overlap
    return query.order_by(ranked.nulls_last(), App.id)


def _row(app: App, domain: str, status: str, installer: str | None, link: Any, market: Any) -> AppRow:
    return AppRow(
        id=app.id,
        domain_id=app.domain_id,
        domain=domain,
        product=app.product,
        key=app.key,
        name=app.name,
        vendor=app.vendor,
        vendor_link=link if isinstance(link, str) else None,
        vendor_marketplace_link=market if isinstance(market, str) else None,
        framework=app.framework,
        scopes=app.scopes,
        version=app.version,
        installed_by=app.installed_by,
        installed_by_name=installer,
        installed_at=app.installed_at,
        first_seen=app.first_seen_at,
        last_seen=app.last_seen_at,
        status=status,
        enrichment=app.enrichment,
        egress=app.egress,
        scopes_source=app.scopes_source,
        installed_source=app.installed_source,
        installer_unknown_reason=None if app.installed_source else words(Outcome(Code.INSTALLER_UNKNOWN)),
    )


def app_rows(
    session: Session, where: AppFilter | None = None, order: AppOrder | None = None
) -> Iterator[AppRow]:
    """Every app the filter selects, in ``order`` (or by domain, product and key)."""
    for found in session.execute(_ordered(_filtered(where or AppFilter()), order)):
        yield _row(*found)


def app_page(
    session: Session, where: AppFilter, order: AppOrder, page: int, per_page: int = PAGE_SIZE
) -> AppPage:
    """One page of the filtered, sorted inventory, and how many apps the filter selects in all."""
    per_page = min(max(per_page, 1), MAX_PAGE_SIZE)
    query = _filtered(where)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page = min(max(page, 1), max(1, ceil(total / per_page)))
    paged = _ordered(query, order).limit(per_page).offset((page - 1) * per_page)
    return AppPage([_row(*found) for found in session.execute(paged)], total, page, per_page)
