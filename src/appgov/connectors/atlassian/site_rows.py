"""A domain's Atlassian row (``atlassian_sites``): its cloud id and the OAuth grant it is read with."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from appgov.storage.models import AtlassianSite, Domain


def atlassian_site(session: Session, domain_id: int) -> AtlassianSite:
    """The domain's row, added empty on first need (a domain connected with an API token alone)."""
    site = session.get(AtlassianSite, domain_id)
    if site is None:
        site = AtlassianSite(domain_id=domain_id)
        session.add(site)
    return site


def grant_of(session: Session, domain_id: int) -> int | None:
    """The id of the OAuth grant the domain is read with, if any."""
    return session.scalar(select(AtlassianSite.oauth_grant_id).where(AtlassianSite.domain_id == domain_id))


def grants_of(session: Session, domain_ids: list[int]) -> dict[int, int]:
    """Domain id -> the id of the OAuth grant it is read with, for those read with one (one query)."""
    rows = session.execute(
        select(AtlassianSite.domain_id, AtlassianSite.oauth_grant_id).where(
            AtlassianSite.domain_id.in_(domain_ids), AtlassianSite.oauth_grant_id.is_not(None)
        )
    )
    return {domain_id: grant_id for domain_id, grant_id in rows if grant_id is not None}


def domains_by_grant(session: Session, grant_ids: set[int]) -> dict[int, list[tuple[int, str]]]:
    """Grant id -> (id, name) of each domain read with it, by name (one query)."""
    rows = session.execute(
        select(AtlassianSite.oauth_grant_id, Domain.id, Domain.name)
        .join(Domain, Domain.id == AtlassianSite.domain_id)
        .where(AtlassianSite.oauth_grant_id.in_(grant_ids))
        .order_by(Domain.name, Domain.id)
    )
    found: dict[int, list[tuple[int, str]]] = {}
    for grant_id, domain_id, name in rows:
        if grant_id is not None:  # selected by it
            found.setdefault(grant_id, []).append((domain_id, name))
    return found


def domains_of_grant(session: Session, grant_id: int) -> list[Domain]:
    """The domains read with this grant, oldest first."""
    return list(
        session.scalars(
            select(Domain)
            .join(AtlassianSite, AtlassianSite.domain_id == Domain.id)
            .where(AtlassianSite.oauth_grant_id == grant_id)
            .order_by(Domain.id)
        )
    )


def used_grants() -> Select[Any]:
    """The grants some domain is read with (a subquery)."""
    return select(AtlassianSite.oauth_grant_id).where(AtlassianSite.oauth_grant_id.is_not(None))
