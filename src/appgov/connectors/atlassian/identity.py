"""Atlassian's identity and permission records projected into the typed tables (``DirectoryUser``,
``DirectoryGroup``, ``GroupMember``, ``PermissionGrant``, ``RoleActor``, ``ApplicationRole``).

``refresh`` runs after a complete pass of a data set and refreshes the tables projected from it. A
table is replaced whole for its domain from the live records, in the caller's transaction: the
same records give the same rows however often it runs. The work is set-based (a DELETE and an
INSERT ... SELECT that reads the JSON in SQL, no query per row): on the ``large`` profile the
memberships alone are 200,000 rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, exists, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from appgov.connectors.atlassian.datasets import (
    CONFLUENCE_GROUP_MEMBERS,
    CONFLUENCE_GROUPS,
    JIRA_APPLICATION_ROLES,
    JIRA_GROUP_MEMBERS,
    JIRA_GROUPS,
    JIRA_PERMISSION_GRANTS,
    JIRA_PROJECT_ROLE_ACTORS,
    JIRA_USERS,
)
from appgov.storage import records
from appgov.storage.models import (
    ApplicationRole,
    ApplicationRoleGroup,
    DirectoryGroup,
    DirectoryUser,
    GroupMember,
    PermissionGrant,
    Record,
    RoleActor,
)

# Who holds Jira's global permissions (Administer Jira among them) no API appgov reads says: these
# are the groups Atlassian makes its administrators, and Connect apps' bot users, members of
ADMIN_GROUPS = ("site-admins", "atlassian-addons-admin", "jira-admins")
ADMIN_GROUP_PREFIX = "jira-admins-"  # Atlassian names a site's Jira admin group jira-admins-<site>
# Jira's holder and actor types in the typed tables' generic words; others are kept as Jira says
HOLDER_TYPES = {"applicationRole": "application_role", "projectRole": "role"}
ACTOR_TYPES = {"atlassian-user-role-actor": "user", "atlassian-group-role-actor": "group"}

# the typed tables a refresh replaces
Typed = (
    DirectoryUser
    | DirectoryGroup
    | GroupMember
    | PermissionGrant
    | RoleActor
    | ApplicationRole
    | ApplicationRoleGroup
)


def _live(*datasets: str) -> ColumnElement[bool]:
    return and_(Record.dataset.in_(datasets), Record.removed_at.is_(None))


def _text(*path: str) -> ColumnElement[str]:
    """A text field of the record's JSON, by its path."""
    field: ColumnElement[str] = Record.data[path if len(path) > 1 else path[0]].as_string()
    return field


def _renamed(value: ColumnElement[str], names: dict[str, str]) -> ColumnElement[str]:
    return case(names, value=value, else_=value)


def _replace(session: Session, model: type[Typed], domain_id: int, rows: Select[*tuple[Any, ...]]) -> None:
    """The domain's rows of ``model`` become ``rows`` (its columns by the select's labels)."""
    session.execute(delete(model).where(model.domain_id == domain_id))
    session.execute(insert(model).from_select([c.name for c in rows.selected_columns], rows))


def refresh_users(session: Session, domain_id: int) -> None:
    """Jira's directory with each account's type, and the accounts that only memberships name (a
    Confluence-only site lists no users: its members are its directory)."""
    _replace(
        session,
        DirectoryUser,
        domain_id,
        select(
            Record.domain_id,
            _text("accountId").label("account_id"),
            _text("accountType").label("account_type"),
            _text("displayName").label("display_name"),
            Record.data["active"].as_boolean().label("active"),
        ).where(Record.domain_id == domain_id, _live(JIRA_USERS)),
    )
    known = exists().where(
        DirectoryUser.domain_id == GroupMember.domain_id, DirectoryUser.account_id == GroupMember.account_id
    )
    members_only = (
        select(GroupMember.domain_id, GroupMember.account_id)
        .where(GroupMember.domain_id == domain_id, ~known)
        .distinct()
    )
    session.execute(insert(DirectoryUser).from_select(["domain_id", "account_id"], members_only))


def refresh_groups(session: Session, domain_id: int) -> None:
    """Jira's and Confluence's groups (the site's groups: the same ids in both)."""
    group_id = func.coalesce(_text("groupId"), _text("id"))
    name = func.min(_text("name"))
    admin = or_(func.lower(name).in_(ADMIN_GROUPS), func.lower(name).like(f"{ADMIN_GROUP_PREFIX}%"))
    _replace(
        session,
        DirectoryGroup,
        domain_id,
        select(
            Record.domain_id,
            group_id.label("group_id"),
            name.label("name"),
            case((admin, literal(True)), else_=literal(False)).label("admin"),
        )
        .where(Record.domain_id == domain_id, _live(JIRA_GROUPS, CONFLUENCE_GROUPS))
        .group_by(Record.domain_id, group_id),
    )


def refresh_group_members(session: Session, domain_id: int) -> None:
    """Memberships from Jira and Confluence, then the directory (which counts members-only accounts)."""
    _replace(
        session,
        GroupMember,
        domain_id,
        select(Record.domain_id, _text("groupId").label("group_id"), _text("accountId").label("account_id"))
        .where(Record.domain_id == domain_id, _live(JIRA_GROUP_MEMBERS, CONFLUENCE_GROUP_MEMBERS))
        .distinct(),
    )
    refresh_users(session, domain_id)


def refresh_permission_grants(session: Session, domain_id: int) -> None:
    _replace(
        session,
        PermissionGrant,
        domain_id,
        select(
            Record.domain_id,
            _text("schemeId").label("scheme_id"),
            _text("id").label("grant_id"),
            _text("permission").label("permission"),
            _renamed(_text("holder", "type"), HOLDER_TYPES).label("holder_type"),
            _text("holder", "parameter").label("holder_parameter"),
            _text("holder", "value").label("holder_value"),
        ).where(Record.domain_id == domain_id, _live(JIRA_PERMISSION_GRANTS)),
    )


def refresh_role_actors(session: Session, domain_id: int) -> None:
    value = func.coalesce(_text("actorUser", "accountId"), _text("actorGroup", "groupId"))
    _replace(
        session,
        RoleActor,
        domain_id,
        select(
            Record.domain_id,
            _text("projectId").label("project_id"),
            _text("roleId").label("role_id"),
            _renamed(_text("type"), ACTOR_TYPES).label("actor_type"),
            value.label("actor_value"),
        ).where(Record.domain_id == domain_id, _live(JIRA_PROJECT_ROLE_ACTORS), value.is_not(None)),
    )


def refresh_application_roles(session: Session, domain_id: int) -> None:
    """Roles and their groups. A handful of rows, so the groups arrays are unrolled here rather than
    with each database's own JSON table function."""
    roles = [row.data for row in records.live(session, domain_id, JIRA_APPLICATION_ROLES)]
    _insert(session, ApplicationRole, domain_id, [{"key": r["key"], "name": r["name"]} for r in roles])
    role_groups = [
        {"role_key": role["key"], "group_id": group["groupId"], "group_name": group["name"]}
        for role in roles
        for group in _unique(role.get("groupDetails") or [])
    ]
    _insert(session, ApplicationRoleGroup, domain_id, role_groups)


def _unique(groups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({str(g["groupId"]): g for g in groups if g.get("groupId")}.values())


def _insert(session: Session, model: type[Typed], domain_id: int, rows: list[dict[str, Any]]) -> None:
    """The domain's rows of ``model`` become ``rows``."""
    session.execute(delete(model).where(model.domain_id == domain_id))
    if rows:
        session.execute(insert(model), [{"domain_id": domain_id, **row} for row in rows])


Projection = Callable[[Session, int], None]
# a complete pass of a data set refreshes the tables projected from it
REFRESHES: dict[str, tuple[Projection, ...]] = {
    JIRA_USERS: (refresh_users,),
    JIRA_GROUPS: (refresh_groups,),
    CONFLUENCE_GROUPS: (refresh_groups,),
    JIRA_GROUP_MEMBERS: (refresh_group_members,),
    CONFLUENCE_GROUP_MEMBERS: (refresh_group_members,),
    JIRA_APPLICATION_ROLES: (refresh_application_roles,),
    JIRA_PERMISSION_GRANTS: (refresh_permission_grants,),
    JIRA_PROJECT_ROLE_ACTORS: (refresh_role_actors,),
}


def refresh(session: Session, domain_id: int, dataset: str) -> None:
    """After a complete pass of ``dataset``: refresh the typed tables it feeds (none for most)."""
    for projection in REFRESHES.get(dataset, ()):
        projection(session, domain_id)
