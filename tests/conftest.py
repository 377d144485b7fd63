"""Shared fixtures: simulators over real HTTP, and the external services some tests need.

A test that needs PostgreSQL, Redis or Chromium skips with the reason when the service is not there, except
under ``CI=true``, where a missing service fails the run instead of hiding it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from support.oauth_browser import Browser, clean_browser, private_simulator
from support.simulator import Simulator

IN_CI = os.environ.get("CI", "").lower() == "true"


def _require_service(name: str, host: str, port: int) -> None:
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as err:
        reason = f"{name} is not reachable at {host}:{port} ({err})"
        if IN_CI:
            pytest.fail(f"{reason}; under CI=true every service must be up")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("APPGOV_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    _require_service("PostgreSQL", "127.0.0.1", 5432)
    return url


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser), one per test module:
    Playwright's sync API holds an event loop on the thread while it runs, which would break the
    ``asyncio.run`` of later tests in the same worker."""
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{reason}; under CI=true every browser test must run")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    _require_service("Redis", "127.0.0.1", 6379)
    return os.environ.get("APPGOV_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    """A shared tiny simulator: for tests that read, and never switch faults or change the tenant."""
    simulator = Simulator("tiny")
    yield simulator
    simulator.stop()


@pytest.fixture(scope="session")
def sim_uncertain() -> Iterator[Simulator]:
    """A shared tiny simulator with the surfaces Atlassian does not document switched on: app changes
    in the Jira and Confluence audit logs, Forge apps in the plugin manager too, the plugin manager's
    Atom feed (docs/simulator/control.md, "Switches"). For tests that read."""
    simulator = Simulator("tiny", extra=["--app-audit-records", "--forge-apps", "both", "--upm-log-feed"])
    yield simulator
    simulator.stop()


@pytest.fixture(scope="session")
def sim_small() -> Iterator[Simulator]:
    """A shared small simulator, where every paginated endpoint spans at least three pages."""
    simulator = Simulator("small")
    yield simulator
    simulator.stop()


@pytest.fixture
def fresh_sim() -> Iterator[Simulator]:
    """A private tiny simulator, for tests that switch faults, move the clock or change the tenant."""
    simulator = Simulator("tiny")
    yield simulator
    simulator.stop()


@contextmanager
def throwaway_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A new empty database of the kind ``request.param`` names, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'appgov.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    import uuid

    import psycopg

    name = f"appgov_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every storage test runs on SQLite and on PostgreSQL (a throwaway database per test)."""
    with throwaway_database(request, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``database_url``, one database per test module: for many fast tests over one world."""
    with throwaway_database(request, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session")
def sim_hostile() -> Iterator[Simulator]:
    """A shared tiny simulator whose vendor-controlled text is hostile (HTML, script, RTL, NUL, huge);
    Forge apps are in the plugin manager too, which shows their vendors' (hostile) links."""
    simulator = Simulator("tiny", hostile=True, extra=["--forge-apps", "both"])
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def oauth_sim() -> Iterator[Simulator]:
    """A simulator per OAuth test module: grants are one per (client, account), so modules must not share."""
    yield from private_simulator()


@pytest.fixture
def browser(oauth_sim: Simulator) -> Iterator[Browser]:
    """A signed-out browser on ``oauth_sim``, whose grants are revoked after the test."""
    yield from clean_browser(oauth_sim)
