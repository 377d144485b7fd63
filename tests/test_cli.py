"""The ``appgov`` command line as a user meets it: connecting sites, listing them, exporting apps."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appgov_sim.tenant.generate import natural_digest
from support.cli import add_site, appgov
from support.simulator import Simulator


def test_a_refused_token_gets_a_clear_message_and_nothing_is_stored(sim: Simulator, tmp_path: Path) -> None:
    refused = add_site(sim, tmp_path, token="ATATT3xNOTAREALTOKEN")
    assert refused.returncode == 1
    assert "refused the API token" in refused.stderr
    expired = add_site(sim, tmp_path, who="expired_token_admin")
    assert expired.returncode == 1
    assert "expired" in expired.stderr
    not_admin = add_site(sim, tmp_path, who="ordinary")
    assert not_admin.returncode == 1
    assert "not a site admin" in not_admin.stderr
    assert "acme" not in appgov(sim, tmp_path, "domains", "list").stdout


def test_the_token_is_never_taken_on_the_command_line(sim: Simulator, tmp_path: Path) -> None:
    result = appgov(sim, tmp_path, "domains", "add", sim.site_url(), "--email", "a@b.c")
    assert result.returncode == 1
    assert "--api-token-stdin" in result.stderr


def test_a_site_that_is_not_atlassian_is_refused(sim: Simulator, tmp_path: Path) -> None:
    result = appgov(
        sim,
        tmp_path,
        "domains",
        "add",
        "https://acme.atlassian.net.evil.com",
        "--email",
        "a@b.c",
        "--api-token-stdin",
        stdin="x\n",
    )
    assert result.returncode == 1
    assert "not an Atlassian Cloud site" in result.stderr


def test_list_shows_the_masked_key_and_never_the_secret(sim: Simulator, tmp_path: Path) -> None:
    assert add_site(sim, tmp_path).returncode == 0
    listed = appgov(sim, tmp_path, "domains", "list")
    token = sim.state["accounts"]["site_admin"]["api_token"]
    assert "acme" in listed.stdout
    assert token[-4:] in listed.stdout
    assert token not in listed.stdout
    assert "N/A" in listed.stdout  # not synced yet


def test_the_api_tokens_expiry_date_is_given_with_it_changed_alone_and_listed_expires_soon(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CS-08 from the command line: ``--expires-on`` on add and replace-token, ``token-expiry``."""
    monkeypatch.setenv("COLUMNS", "250")  # one line per table row: the Expires cell is not folded
    account = sim.state["accounts"]["site_admin"]
    soon, later = (f"{datetime.now(UTC) + timedelta(days=days):%Y-%m-%d}" for days in (10, 200))
    token = account["api_token"] + "\n"
    added = appgov(
        sim, tmp_path, "domains", "add", sim.site_url("acme"), "--email", account["email"],
        "--api-token-stdin", "--expires-on", soon, stdin=token,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert f"API token {soon} (expires soon)" in appgov(sim, tmp_path, "domains", "list").stdout

    changed = appgov(sim, tmp_path, "domains", "token-expiry", "acme", "--expires-on", later)
    assert changed.returncode == 0, changed.stderr
    listed = appgov(sim, tmp_path, "domains", "list").stdout
    assert f"API token {later}" in listed
    assert "expires soon" not in listed

    replaced = appgov(
        sim, tmp_path, "domains", "replace-token", "acme", "--email", account["email"],
        "--api-token-stdin", "--expires-on", soon, stdin=token,
    )  # fmt: skip
    assert replaced.returncode == 0, replaced.stderr
    assert f"API token {soon} (expires soon)" in appgov(sim, tmp_path, "domains", "list").stdout
    past = appgov(sim, tmp_path, "domains", "token-expiry", "acme", "--expires-on", "2020-01-01")
    assert past.returncode == 1
    assert "not in the future" in past.stderr


def test_export_lists_every_app_in_json_and_formula_safe_csv(sim: Simulator, tmp_path: Path) -> None:
    """The export equals the ground truth on a tenant whose Forge apps only the gateway lists (the
    simulator's default)."""
    assert sim.ground_truth()["switches"]["forge_apps"] == "gateway"
    assert add_site(sim, tmp_path).returncode == 0
    assert appgov(sim, tmp_path, "sync", "acme").returncode == 0
    apps = json.loads(appgov(sim, tmp_path, "export", "apps", "--format", "json").stdout)
    for product, sets in sim.ground_truth()["sites"]["acme"]["products"].items():
        keys = [app["key"] for app in apps if app["product"] == product]
        truth = sets["app_inventory"]
        assert (len(keys), natural_digest(keys)) == (truth["count"], truth["digest"]), product
    assert any(app["framework"] == "forge" and app["installed_source"] == "gateway" for app in apps)
    assert set(apps[0]) == {
        "domain",
        "product",
        "key",
        "name",
        "vendor",
        "framework",
        "scopes",
        "egress",
        "scopes_source",
        "version",
        "installed_by",
        "installed_by_name",
        "installed_at",
        "installed_source",
        "first_seen",
        "last_seen",
        "status",
    }
    rows = list(
        csv.DictReader(io.StringIO(appgov(sim, tmp_path, "export", "apps", "--format", "csv").stdout))
    )
    assert [row["key"] for row in rows] == [app["key"] for app in apps]
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
