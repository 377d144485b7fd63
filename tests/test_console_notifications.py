"""Notifications: the signed-in user's list (newest first, unread highlighted, each linking to its
domain), the unread count in the navigation, and marking read, on the page and over REST."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from appgov.storage.models import Domain, Notification, User
from support.cli import appgov
from support.console import ADMIN_EMAIL, Console, SignedIn, console_db
from support.console_data import Page, domain_ids, seeded_console
from support.simulator import Simulator

OTHER_EMAIL = "other@example.com"
OTHER_PASSWORD = "another long enough passphrase"
HOSTILE = "<script>alert('n')</script> sync failed: <img src=x onerror=alert(1)> \u202eexe.txt"


@pytest.fixture(scope="module")
def console(sim: Simulator) -> Iterator[Console]:
    def another_user(data_dir: Path) -> None:
        created = appgov(
            sim,
            data_dir,
            "users",
            "create-admin",
            OTHER_EMAIL,
            "--name",
            "Other",
            stdin=OTHER_PASSWORD + "\n",
        )
        assert created.returncode == 0, created.stderr

    yield from seeded_console(sim, ("acme",), then=another_user)


@pytest.fixture
def inbox(console: Console) -> dict[str, int]:
    """Four notifications for the admin (oldest to newest: read ready, unread error, unread hostile
    error, one whose domain is gone) and one for another user; ids by name."""
    now = datetime.now(UTC)
    acme = domain_ids(console)["acme"]
    with console_db(console) as session:
        session.execute(delete(Notification))
        users = {u.email: u.id for u in session.scalars(select(User))}
        admin, other = users[ADMIN_EMAIL], users[OTHER_EMAIL]

        def note(user: int, domain: int | None, kind: str, message: str, age: timedelta) -> Notification:
            return Notification(
                user_id=user, domain_id=domain, kind=kind, message=message, created_at=now - age
            )

        rows = {
            "ready": note(admin, acme, "domain_ready", "acme is ready", timedelta(hours=3)),
            "error": note(admin, acme, "sync_error", "acme: the API token was refused", timedelta(hours=1)),
            "hostile": note(admin, acme, "sync_error", HOSTILE, timedelta(minutes=30)),
            "orphan": note(admin, None, "sync_error", "a deleted domain failed", timedelta(minutes=1)),
            "theirs": note(other, acme, "domain_ready", "not for the admin", timedelta(0)),
        }
        rows["ready"].read_at = now - timedelta(hours=2)
        session.add_all(rows.values())
        session.flush()
        return {name: row.id for name, row in rows.items()}


@pytest.fixture(scope="module")
def admin(console: Console) -> SignedIn:
    return console.sign_in()


def listed(admin: SignedIn) -> Page:
    page = admin.get("/notifications")
    assert page.status_code == 200
    return Page(page.text)


def test_the_list_is_the_users_own_newest_first_with_unread_highlighted(
    admin: SignedIn, inbox: dict[str, int], console: Console
) -> None:
    page = listed(admin)
    items = [e for e in page.elements.values() if "data-notification" in e]
    assert [int(e["data-notification"]) for e in items] == [
        inbox[n] for n in ("orphan", "hostile", "error", "ready")
    ]
    assert [e["data-read"] for e in items] == ["no", "no", "no", "yes"]
    assert [("unread" in e["class"]) for e in items] == [True, True, True, False]
    assert page.ids["unread-count"] == "3"
    acme = domain_ids(console)["acme"]
    domain_links = [a["href"] for a in page.anchors if a["href"].startswith("/domains/")]
    assert domain_links == [f"/domains/{acme}"] * 3  # the orphan has no link: its domain is gone
    assert "not for the admin" not in admin.get("/notifications").text


def test_upstream_text_in_a_notification_is_escaped(admin: SignedIn, inbox: dict[str, int]) -> None:
    html = admin.get("/notifications").text
    assert "<script>alert('n')" not in html
    assert "<img src=x" not in html
    assert Page(html).ids[f"message-{inbox['hostile']}"] == HOSTILE


def test_mark_all_read_clears_the_unread_count(
    admin: SignedIn, inbox: dict[str, int], console: Console
) -> None:
    done = admin.post_form("/notifications/read")
    assert (done.status_code, done.headers["location"]) == (303, "/notifications")
    page = listed(admin)
    assert "unread-count" not in page.ids
    assert {e["data-read"] for e in page.elements.values() if "data-notification" in e} == {"yes"}
    with console_db(console) as session:
        theirs = session.get_one(Notification, inbox["theirs"])
    assert theirs.read_at is None  # another user's stay unread


def test_the_api_lists_and_marks_chosen_notifications_read(admin: SignedIn, inbox: dict[str, int]) -> None:
    listed_ = admin.get("/api/v1/notifications").json()
    assert listed_["unread"] == 3
    assert [n["id"] for n in listed_["items"]] == [inbox[n] for n in ("orphan", "hostile", "error", "ready")]
    orphan = listed_["items"][0]
    assert (orphan["domain_id"], orphan["domain_name"], orphan["read"]) == (None, None, False)
    assert listed_["items"][1]["message"] == HOSTILE
    marked = admin.api("POST", "/api/v1/notifications/read", json={"ids": [inbox["error"], inbox["theirs"]]})
    assert marked.json() == {"marked": 1}  # another user's id changes nothing
    assert admin.get("/api/v1/notifications").json()["unread"] == 2
    assert admin.api("POST", "/api/v1/notifications/read").json() == {"marked": 2}
    assert admin.get("/api/v1/notifications").json()["unread"] == 0


def test_a_deleted_domain_leaves_its_notifications_without_a_link(
    admin: SignedIn, inbox: dict[str, int], console: Console
) -> None:
    with console_db(console) as session:
        ghost = Domain(site_url="https://ghost.atlassian.net", name="ghost", products=["jira"],
                       created_at=datetime.now(UTC), created_by="tester", created_via="cli")  # fmt: skip
        session.add(ghost)
        session.flush()
        session.get_one(Notification, inbox["orphan"]).domain_id = ghost.id
    assert f"/domains/{ghost.id}" in admin.get("/notifications").text
    with console_db(console) as session:
        session.delete(session.get_one(Domain, ghost.id))
    page = admin.get("/notifications").text
    assert f"/domains/{ghost.id}" not in page
    assert "domain deleted" in page
