"""BI-01: Schemathesis against the REST API's own OpenAPI document, in-process (ASGI), signed in as each
role with a personal API token, on a database holding a domain synced from the simulator: every
default check (no server error, only documented status codes, answers matching their schemas, bad
input refused, auth enforced) passes on every operation, with a fixed seed and a bounded number of
examples. Each role gets its own copy of the synced database, so what the administrator's run deletes
or disables changes nothing for the others."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from appgov.accounts.permissions import Role
from appgov.accounts.principal import Principal, Via
from appgov.accounts.tokens import find_token
from appgov.accounts.users import create_user
from appgov.administration.tokens import create_personal_token
from appgov.config import AtlassianSettings, Settings
from appgov.runtime import Runtime
from appgov.storage.models import User
from appgov.web.app import create_app
from support.console_data import seed_domains
from support.simulator import Simulator

PASSWORD = "a long enough password"
TESTER = Principal("tester@example.com", Via.CLI)
DAY = timedelta(days=1)
# positive_data_acceptance wants schema-valid input accepted; this API answers 400 ("refused as it
# stands", with the reason) to input only Atlassian or the calendar can judge: a site, account and API
# token that do not go together, an OAuth step without the browser session that began it, an unknown
# or expired consent, a since/until date that does not exist (2026-02-31). Those routes only may 400.
REFUSED_AS_IT_STANDS = ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
CONFIG = {
    "seed": 1,
    "cache": {"enabled": False},  # each run starts from the seed alone, and writes nothing to the tree
    "generation": {"max-examples": 8, "deterministic": True, "database": "none"},
    "operations": [
        {
            "include-path-regex": r"^/api/v1/(domains|domains/\{domain_id\}/(api-token|reconnect)"
            r"|organizations|organizations/\{organization_id\}/api-key"
            r"|integrations/atlassian/.*|audit|audit/export)$",
            "checks": {"positive_data_acceptance": {"expected-statuses": REFUSED_AS_IT_STANDS}},
        },
        {  # and deleting a domain without ?confirm=true, which the answer asks for
            "include-path": "/api/v1/domains/{domain_id}",
            "include-method": "DELETE",
            "checks": {"positive_data_acceptance": {"expected-statuses": REFUSED_AS_IT_STANDS}},
        },
        {  # and an organization
            "include-path": "/api/v1/organizations/{organization_id}",
            "include-method": "DELETE",
            "checks": {"positive_data_acceptance": {"expected-statuses": REFUSED_AS_IT_STANDS}},
        },
    ],
}


@dataclass
class SignedInApi:
    """The app on a role's copy of the synced database, and the role's user."""

    app: FastAPI
    runtime: Runtime
    role: Role
    user_id: int
    token: str = ""

    def live_token(self) -> str:
        """The user's personal API token, a new one when the run revoked it. The run reads real ids
        (GET /tokens, GET /users) and uses them: an administrator's run revokes its own token, disables
        or demotes itself; the user is put back as it was, so the rest of the run is not all 401 or 403."""
        now = datetime.now(UTC)
        with self.runtime.sessions.begin() as session:
            user = session.get_one(User, self.user_id)
            user.role, user.disabled_at = self.role.value, None
            if find_token(session, self.token, now) is None:
                self.token, _ = create_personal_token(session, user, "schemathesis", DAY, TESTER, now)
        return self.token


@pytest.fixture(scope="module")
def synced(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding one domain connected and synced with the real command line."""
    data_dir = tmp_path_factory.mktemp("schemathesis-synced")
    seed_domains(sim, data_dir, ("acme",))
    return data_dir


@pytest.fixture(scope="module", params=[Role.VIEWER, Role.ANALYST, Role.ADMIN])
def signed_in_api(
    request: pytest.FixtureRequest, synced: Path, sim: Simulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SignedInApi]:
    role: Role = request.param
    data_dir = tmp_path_factory.mktemp(f"schemathesis-{role.value}")
    shutil.copytree(synced, data_dir, dirs_exist_ok=True)
    settings_ = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'appgov.db'}",
        allowed_hosts=(sim.url.split("//", 1)[1],),
        atlassian=AtlassianSettings(admin_url=sim.state["api_url"]),  # an org API key is checked there
    )
    runtime = Runtime.start(settings_)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        for other in Role:  # users and tokens at the ids generated cases try first (1, 2, 3): they resolve
            someone = create_user(session, f"other-{other.value}@example.com", "o", PASSWORD, now, role=other)
            create_personal_token(session, someone, "other", DAY, TESTER, now)
        user_id = create_user(session, f"{role.value}@example.com", role.value, PASSWORD, now, role=role).id
    yield SignedInApi(create_app(runtime), runtime, role, user_id)
    runtime.engine.dispose()


def failures(api: SignedInApi) -> list[str]:
    """What Schemathesis' run of every phase finds wrong, in words (empty: nothing)."""

    class ActorToken:
        """Every request carries the user's live token."""

        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
            return api.live_token()

        def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    config = SchemathesisConfig.from_dict(CONFIG)
    headers = {"Authorization": f"Bearer {api.live_token()}"}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", api.app, config=config, headers=headers)
    schema.auth(refresh_interval=None)(ActorToken)
    found: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.NonFatalError | events.FatalError):
            found.append(f"{type(event).__name__}: {event}")
        elif isinstance(event, events.ScenarioFinished) and event.status in (Status.FAILURE, Status.ERROR):
            found.extend(
                f"{event.recorder.label}: {check.name}: {check.failure_info.failure.title}:"
                f" {check.failure_info.failure.message} [{check.failure_info.code_sample}]"
                for checks in event.recorder.checks.values()
                for check in checks
                if check.failure_info is not None
            )
    return found


def test_every_operation_passes_the_default_checks_for_each_role(signed_in_api: SignedInApi) -> None:
    found = failures(signed_in_api)
    assert not found, "\n\n".join(found)
