"""What an account holds on a domain, from the typed identity tables: its groups, the application
roles those groups give, the permission grants whose holder covers it, and whether it is an admin.
For an app's bot user (``DirectoryUser.account_type == "app"``) that is what the app can do as
itself. One query answers all of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import (
    CTE,
    ColumnElement,
    CompoundSelect,
    String,
    and_,
    exists,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from appgov.storage.models import (
    ApplicationRole,
    ApplicationRoleGroup,
    DirectoryGroup,
    GroupMember,
    PermissionGrant,
    RoleActor,
)

Admin = Literal["yes", "unknown"]


@dataclass(frozen=True)
class HeldGroup:
    group_id: str
    name: str | None  # None when the membership names a group the group list no longer has
    admin: bool


@dataclass(frozen=True)
class HeldRole:
    key: str
    name: str


@dataclass(frozen=True)
class HeldGrant:
    scheme_id: str
    grant_id: str
    permission: str
    holder_type: str  # how it reaches the account: user, group, application_role, role, anyone
    holder_parameter: str | None


@dataclass
class Access:
    groups: list[HeldGroup] = field(default_factory=list)
    application_roles: list[HeldRole] = field(default_factory=list)
    permission_grants: list[HeldGrant] = field(default_factory=list)
    # "yes" through a group the connector knows for an admin group; otherwise "unknown": who else
    # holds the global admin permissions the platform's APIs do not say
    admin: Admin = "unknown"


def app_user_access(session: Session, domain_id: int, account_id: str) -> Access:
    """The groups, application roles and permission grants an account (an app's bot user, or any
    other) holds on a domain, and whether it is an admin, in one query.

    A grant to a project role counts when the account plays that role in some project, directly or
    through a group (which projects use which scheme is not synced); a grant to ``anyone`` counts.
    """
    access = Access()
    for kind, first, second, permission, holder_type, holder_parameter, admin in session.execute(
        _access_query(domain_id, account_id)
    ):
        if kind == "group":
            access.groups.append(HeldGroup(first, second, bool(admin)))
        elif kind == "application_role":
            access.application_roles.append(HeldRole(first, second))
        else:
            access.permission_grants.append(
                HeldGrant(first, second, permission, holder_type, holder_parameter)
            )
    access.admin = "yes" if any(g.admin for g in access.groups) else "unknown"
    return access


def _access_query(domain_id: int, account_id: str) -> CompoundSelect[*tuple[Any, ...]]:
    """One UNION ALL of the account's groups, roles and grants: (kind, id, name or grant id,
    permission, holder type, holder parameter, admin)."""
    groups = _groups_of(domain_id, account_id)
    roles = _roles_of(domain_id, groups)
    nothing = null().cast(String)
    return union_all(
        select(
            literal("group").label("kind"),
            groups.c.group_id.label("first"),
            groups.c.name.label("second"),
            *(nothing, nothing, nothing, groups.c.admin),
        ),
        select(
            literal("application_role"), roles.c.key, roles.c.name, nothing, nothing, nothing, literal(False)
        ),
        select(
            literal("grant"),
            PermissionGrant.scheme_id,
            PermissionGrant.grant_id,
            PermissionGrant.permission,
            PermissionGrant.holder_type,
            PermissionGrant.holder_parameter,
            literal(False),
        ).where(PermissionGrant.domain_id == domain_id, _holds(domain_id, account_id, groups, roles)),
    ).order_by("kind", "first", "second")


def _groups_of(domain_id: int, account_id: str) -> CTE:
    return (
        select(GroupMember.group_id, DirectoryGroup.name, DirectoryGroup.admin)
        .outerjoin(
            DirectoryGroup,
            and_(
                DirectoryGroup.domain_id == GroupMember.domain_id,
                DirectoryGroup.group_id == GroupMember.group_id,
            ),
        )
        .where(GroupMember.domain_id == domain_id, GroupMember.account_id == account_id)
        .cte("held_groups")
    )


def _roles_of(domain_id: int, groups: CTE) -> CTE:
    through_a_group = exists().where(
        ApplicationRoleGroup.domain_id == domain_id,
        ApplicationRoleGroup.role_key == ApplicationRole.key,
        ApplicationRoleGroup.group_id.in_(select(groups.c.group_id)),
    )
    return (
        select(ApplicationRole.key, ApplicationRole.name)
        .where(ApplicationRole.domain_id == domain_id, through_a_group)
        .cte("held_roles")
    )


def _holds(domain_id: int, account_id: str, groups: CTE, roles: CTE) -> ColumnElement[bool]:
    """Whether a grant's holder covers the account."""
    played = select(RoleActor.role_id).where(
        RoleActor.domain_id == domain_id,
        or_(
            and_(RoleActor.actor_type == "user", RoleActor.actor_value == account_id),
            and_(RoleActor.actor_type == "group", RoleActor.actor_value.in_(select(groups.c.group_id))),
        ),
    )
    holder, parameter = PermissionGrant.holder_type, PermissionGrant.holder_parameter
    return or_(
        holder == "anyone",
        and_(holder == "user", parameter == account_id),
        and_(
            holder == "group",
            or_(
                PermissionGrant.holder_value.in_(select(groups.c.group_id)),
                parameter.in_(select(groups.c.name)),
            ),
        ),
        # without a parameter: any application role
        and_(
            holder == "application_role",
            or_(parameter.in_(select(roles.c.key)), and_(parameter.is_(None), exists(select(roles.c.key)))),
        ),
        and_(holder == "role", parameter.in_(played)),
    )
