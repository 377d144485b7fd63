"""Typed identity and permission data: a sync fills the typed tables from the raw records, and one
query says what an app's bot user holds, as the simulator's ground truth has it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session

from appgov.connectors.atlassian import identity
from appgov.connectors.atlassian.datasets import CONFLUENCE_GROUP_MEMBERS, JIRA_GROUP_MEMBERS
from appgov.inventory.identity import app_user_access
from appgov.runtime import Runtime
from appgov.storage.models import (
    ApplicationRole,
    Base,
    DirectoryGroup,
    DirectoryUser,
    GroupMember,
    PermissionGrant,
    Record,
    RoleActor,
)
from support.product import connect, runtime_for, sync
from support.simulator import Simulator

TYPED = (DirectoryUser, DirectoryGroup, GroupMember, PermissionGrant, RoleActor, ApplicationRole)


@pytest.fixture
def synced(sim_small: Simulator, tmp_path: Path, database_url: str) -> tuple[Runtime, int]:
    runtime = runtime_for(sim_small, tmp_path, database_url)
    domain = connect(runtime, sim_small)
    assert sync(runtime, domain).status == "success"
    return runtime, domain.id


def rows(session: Session, model: type[Base], domain_id: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(model).where(model.domain_id == domain_id)) or 0
    )  # type: ignore[attr-defined]


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_one_query_says_what_each_app_bot_user_holds_as_the_ground_truth_does(
    sim_small: Simulator, synced: tuple[Runtime, int]
) -> None:
    runtime, domain_id = synced
    truth = sim_small.ground_truth()["sites"]["acme"]["app_users"]
    assert any(t["admin"] for t in truth.values())  # the Connect apps' bots
    assert not all(t["admin"] for t in truth.values())
    assert all(t["permission_grants"] for t in truth.values())
    with runtime.sessions() as session:
        users = session.execute(select(DirectoryUser.account_id, DirectoryUser.account_type))
        kinds = {account_id: kind for account_id, kind in users}
        for account_id, expected in truth.items():
            with statements(runtime.engine) as ran:
                access = app_user_access(session, domain_id, account_id)
            assert len(ran) == 1
            assert kinds[account_id] == "app"
            assert sorted(g.group_id for g in access.groups) == expected["groups"]
            assert sorted(r.key for r in access.application_roles) == expected["application_roles"]
            held = sorted(f"{g.scheme_id}:{g.grant_id}" for g in access.permission_grants)
            assert held == expected["permission_grants"], account_id
            assert access.admin == ("yes" if expected["admin"] else "unknown")


def test_the_typed_tables_hold_every_live_record_and_a_refresh_changes_nothing(
    sim_small: Simulator, synced: tuple[Runtime, int]
) -> None:
    runtime, domain_id = synced
    jira = sim_small.ground_truth()["sites"]["acme"]["products"]["jira"]
    expected = {
        DirectoryUser: jira["users"]["count"],
        GroupMember: jira["memberships"]["count"],
        DirectoryGroup: jira["groups"]["count"],
        PermissionGrant: jira["permission_grants"]["count"],
        RoleActor: jira["project_role_actors"]["count"],
        ApplicationRole: jira["application_roles"]["count"],
    }
    with runtime.sessions.begin() as session:
        assert {model: rows(session, model, domain_id) for model in TYPED} == expected
        for dataset in identity.REFRESHES:
            identity.refresh(session, domain_id, dataset)
        assert {model: rows(session, model, domain_id) for model in TYPED} == expected


def test_a_membership_goes_once_neither_products_complete_pass_lists_it(synced: tuple[Runtime, int]) -> None:
    """acme has Jira and Confluence: their groups are the site's, listed by both."""
    runtime, domain_id = synced
    with runtime.sessions.begin() as session:
        member = session.scalars(select(GroupMember).where(GroupMember.domain_id == domain_id)).first()
        assert member is not None
        pair = (member.group_id, member.account_id)
        for dataset in (JIRA_GROUP_MEMBERS, CONFLUENCE_GROUP_MEMBERS):
            session.execute(
                update(Record)
                .where(Record.dataset == dataset, Record.key == f"{pair[0]}:{pair[1]}")
                .values(removed_at=Record.seen_at)
            )
            identity.refresh(session, domain_id, dataset)
            left = {(g, a) for g, a in session.execute(select(GroupMember.group_id, GroupMember.account_id))}
            assert (pair in left) == (dataset == JIRA_GROUP_MEMBERS)
