"""Removing a domain removes its secrets (reliability CS-09), on SQLite and PostgreSQL: its API
token, its OAuth flows, its queued and running jobs (cancelled, then gone with it), and its grant's
tokens once no other domain of the same consent uses the grant; afterwards no LargeBinary column of
any table holds any of its ciphertexts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import LargeBinary, func, select, update

from appgov.accounts.permissions import Role
from appgov.accounts.principal import Principal, Via
from appgov.accounts.sessions import open_session
from appgov.accounts.users import create_user
from appgov.config import Settings
from appgov.connectors.atlassian.grants import store_grant
from appgov.connectors.atlassian.oauth import TokenSet
from appgov.connectors.atlassian.probe import SiteProbe
from appgov.connectors.atlassian.site_rows import atlassian_site
from appgov.integrations.connect import delete_domain
from appgov.integrations.domains import domain_row, put_api_token
from appgov.jobs.queue import enqueue_sync
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, AuditEvent, Base, Job, OAuthFlow, OAuthGrant, SecretKeyCheck
from support.clock import FakeClock
from support.in_process import ADMIN, PASSWORD, START


class World:
    """Two domains of one consent (they share its grant), each with its API token, a reconnect flow
    in flight and a sync job; the consent's own Add flow."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.runtime = runtime = Runtime.start(Settings(data_dir=tmp_path, database_url=database_url))
        runtime.clock = FakeClock(START)
        tokens = TokenSet("access-token", "refresh-token", START + timedelta(hours=1), ["read:jira-work"])
        self.grant_id = store_grant(
            runtime.sessions, runtime.secrets, "client", "account", None, tokens, START
        ).id
        with runtime.sessions.begin() as session:
            admin = create_user(session, ADMIN, "Ada", PASSWORD, START, role=Role.ADMIN)
            self.by = Principal.of_user(admin, Via.CONSOLE)
            self.web_session = open_session(session, admin, START, timedelta(hours=1), "127.0.0.1", "test")[
                1
            ].id
            session.flush()
            session.add(self.flow("add", None))
        self.acme, self.beta = self.connected("acme"), self.connected("beta")

    def flow(self, label: str, domain_id: int | None) -> OAuthFlow:
        secret = self.runtime.secrets.encrypt(f"verifier-{label}", f"oauth_flow:{label}:code_verifier")
        return OAuthFlow(
            state_hash=f"state-{label}", session_id=self.web_session, code_verifier=secret,
            purpose="reconnect" if domain_id else "add", domain_id=domain_id, grant_id=self.grant_id,
            created_at=START, expires_at=START + timedelta(minutes=10),
        )  # fmt: skip

    def connected(self, name: str) -> int:
        with self.runtime.sessions.begin() as session:
            domain = domain_row(session, f"https://{name}.atlassian.net", ["jira"], self.by, START)
            session.flush()
            probe = SiteProbe(["jira"], f"cloud-{name}", "account")
            token = f"token-of-{name}-1234"
            put_api_token(self.runtime, session, domain.id, "o@example.com", token, probe, START, None)
            site = atlassian_site(session, domain.id)
            site.cloud_id, site.oauth_grant_id = f"cloud-{name}", self.grant_id
            session.add(self.flow(f"reconnect-{name}", domain.id))
            enqueue_sync(session, domain.id, self.by, START)
            return domain.id

    def secrets_of(self, domain_id: int) -> set[bytes]:
        """The domain's API token and its flows' verifiers, as stored."""
        with self.runtime.sessions() as session:
            token = session.scalars(select(ApiToken.secret).where(ApiToken.domain_id == domain_id))
            flows = session.scalars(select(OAuthFlow.code_verifier).where(OAuthFlow.domain_id == domain_id))
            return {*token, *flows}

    def grant_secrets(self) -> set[bytes]:
        with self.runtime.sessions() as session:
            grant = session.get_one(OAuthGrant, self.grant_id)
            verifiers = session.scalars(select(OAuthFlow.code_verifier).where(OAuthFlow.domain_id.is_(None)))
            return {grant.access_token or b"", grant.refresh_token or b"", *verifiers}

    def ciphertexts(self) -> set[bytes]:
        """Every value of every LargeBinary column of every table but the key checks (a known text
        encrypted with each key, no domain's)."""
        found: set[bytes] = set()
        with self.runtime.sessions() as session:
            for table in Base.metadata.sorted_tables:
                for column in table.columns:
                    if isinstance(column.type, LargeBinary) and table is not SecretKeyCheck.__table__:
                        found |= {value for value in session.scalars(select(column)) if value is not None}
        return found

    def active_jobs(self, domain_id: int) -> int:
        with self.runtime.sessions() as session:
            active = select(func.count()).where(
                Job.domain_id == domain_id, Job.status.in_(("queued", "running"))
            )
            return int(session.scalar(active) or 0)

    def deleted_event(self) -> AuditEvent:
        with self.runtime.sessions() as session:
            query = (
                select(AuditEvent).where(AuditEvent.action == "domain.deleted").order_by(AuditEvent.id.desc())
            )
            return session.scalars(query.limit(1)).one()


def test_deleting_a_domain_leaves_no_row_holding_its_ciphertexts_and_keeps_a_grant_another_domain_uses(
    tmp_path: Path, database_url: str
) -> None:
    world = World(tmp_path, database_url)
    acme_secrets, beta_secrets, grant_secrets = (
        world.secrets_of(world.acme),
        world.secrets_of(world.beta),
        world.grant_secrets(),
    )
    assert len(acme_secrets) == 2
    assert len(grant_secrets) == 3
    assert acme_secrets | beta_secrets | grant_secrets <= world.ciphertexts()
    with world.runtime.sessions.begin() as session:  # acme's sync is running: a runner claimed it
        session.execute(
            update(Job).where(Job.domain_id == world.acme).values(status="running", claimed_by="w")
        )

    delete_domain(world.runtime, world.acme, world.by)

    left = world.ciphertexts()
    assert acme_secrets & left == set()
    assert grant_secrets <= left  # beta still reads with the shared grant
    assert beta_secrets <= left
    assert world.active_jobs(world.acme) == 0
    event = world.deleted_event()
    assert (event.detail["jobs_cancelled"], event.detail["grant_deleted"]) == (1, False)

    delete_domain(world.runtime, world.beta, world.by)

    assert world.ciphertexts() == set()  # the last domain of the consent took the grant and its flows
    assert world.active_jobs(world.beta) == 0
    assert world.deleted_event().detail["grant_deleted"] is True
    with world.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OAuthFlow)) == 0
        assert session.scalar(select(func.count()).select_from(Job)) == 0
    world.runtime.engine.dispose()
