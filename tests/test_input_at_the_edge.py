"""Input no route can use is refused at the edge, on SQLite and on PostgreSQL, never a 5xx (BI-01,
BI-04, BI-05): ids past what either database stores on every route that takes one, a NUL or a lone
surrogate in a query, a form or a JSON body, integers in JSON that are not JSON numbers, page sizes
past the cap, sorts and parameters outside the allowlist; SQL metacharacters are only text; CSV
cells that would run as formulas are text; upstream text reaches an email's headers on one line."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from appgov.accounts.permissions import Role
from appgov.accounts.users import create_user
from appgov.config import Settings
from appgov.exports import export_chunks
from appgov.notify import events
from appgov.runtime import Runtime
from appgov.storage.models import Domain, User
from appgov.web.inputs import MAX_ROW_ID
from support.authz import load_matrix
from support.in_process import ADMIN, PASSWORD, Browser
from support.smtp import SmtpServer
from test_email import send

# past PostgreSQL's integer, past SQLite's 64 bits, and past both
TOO_BIG = (MAX_ROW_ID + 1, 2**63, 2**64 + 7)
ID_PARAMS = re.compile(r"\{(?!session_id)(\w+_id|flow|domain)\}")  # a session's id is a handle


@pytest.fixture(scope="module")
def runtime(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    data_dir = tmp_path_factory.mktemp("edge")
    runtime = Runtime.start(Settings(data_dir=data_dir, database_url=module_database_url))
    with runtime.sessions.begin() as session:
        create_user(session, ADMIN, "Ada", PASSWORD, datetime.now(UTC), role=Role.ADMIN)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def admin(runtime: Runtime) -> Browser:
    return Browser(runtime).sign_in(ADMIN)


def csrf(admin: Browser) -> dict[str, str]:
    return {"X-CSRF-Token": admin.csrf}


def id_routes() -> list[tuple[str, str]]:
    return [(row.method, row.path) for row in load_matrix() if ID_PARAMS.search(row.path)]


def test_the_id_routes_are_the_ones_the_probe_found() -> None:
    assert len(id_routes()) >= 29


@pytest.mark.parametrize("value", TOO_BIG)
def test_every_route_taking_an_id_refuses_one_no_database_holds_with_422(admin: Browser, value: int) -> None:
    answers = {
        (method, path): admin.client.request(
            method, ID_PARAMS.sub(str(value), path), headers=csrf(admin)
        ).status_code
        for method, path in id_routes()
    }
    assert {route: status for route, status in answers.items() if status != 422} == {}


def test_the_largest_id_either_database_holds_is_looked_up_and_not_found(admin: Browser) -> None:
    for path in ("/api/v1/domains/{}", "/api/v1/users/{}", "/domains/{}", "/users/{}"):
        assert admin.client.get(path.format(MAX_ROW_ID)).status_code == 404, path
    assert admin.client.get("/api/v1/audit", params={"before": MAX_ROW_ID}).status_code == 200
    assert admin.client.get("/api/v1/audit", params={"before": MAX_ROW_ID + 1}).status_code == 422
    assert admin.client.get("/api/v1/apps", params={"domain_id": 2**63}).status_code == 422
    assert admin.client.get("/apps", params={"domain": str(2**63)}).status_code == 200  # the page ignores it


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/apps", "q"),
        ("/api/v1/apps/export", "q"),
        ("/api/v1/audit", "actor"),
        ("/api/v1/audit/export", "target"),
        ("/apps", "q"),
        ("/audit", "target"),
    ],
)
def test_a_nul_in_a_search_is_refused_with_422(admin: Browser, path: str, name: str) -> None:
    answer = admin.client.get(path, params={name: "acme\x00' OR 1=1"})
    assert answer.status_code == 422
    assert "NUL" in answer.text


def test_a_nul_in_the_sign_in_email_is_refused_without_a_server_error(runtime: Runtime) -> None:
    browser = Browser(runtime)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.client.get("/login").text)
    assert token is not None
    form = {"email": "ada@example.com\x00", "password": PASSWORD, "csrf_token": token.group(1)}
    answer = browser.client.post("/login", data=form)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert browser.role() is None


@pytest.mark.parametrize(
    "credential",
    [
        b"Bearer agv_\xc3\xa9t\xc3\xa9",
        b"Bearer agv_\xed\xa0\x80",
        b"Bearer agv_" + b"\xff" * 40,
        b"Bearer \x80",
    ],
)
def test_an_api_token_that_is_not_ascii_is_a_401(runtime: Runtime, credential: bytes) -> None:
    # \xed\xa0\x80 is a lone surrogate as UTF-8 would spell it: what a header can carry of one
    answer = Browser(runtime).client.get("/api/v1/session", headers={"Authorization": credential})
    assert answer.status_code == 401


@pytest.mark.parametrize("text", ['"\\u0000"', '"\\ud800"', '"ok\\udfff"', '"\\ud800\\u0000"'])
def test_a_nul_or_a_lone_surrogate_in_a_json_string_is_refused_with_422(admin: Browser, text: str) -> None:
    body = f'{{"name": {text}, "days": 1}}'
    answer = admin.client.post(
        "/api/v1/tokens", content=body, headers={**csrf(admin), "Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "name"]


def test_a_lone_surrogate_in_a_key_of_a_json_body_is_refused_with_422(admin: Browser) -> None:
    answer = admin.client.post(
        "/api/v1/notifications/read",
        content='{"ids": [1], "\\udc00": 1}',
        headers={**csrf(admin), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422


def test_a_nul_in_a_form_field_is_the_error_page(admin: Browser, runtime: Runtime) -> None:
    form = {"email": "grace@example.com\x00", "role": "viewer", "csrf_token": admin.csrf}
    answer = admin.client.post("/users/invite", data=form)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("ids", [[False], [True], ["1"], [1.5], [0], [MAX_ROW_ID + 1], "1"])
def test_notification_ids_are_json_numbers_in_range_or_422(admin: Browser, ids: object) -> None:
    answer = admin.client.post("/api/v1/notifications/read", json={"ids": ids}, headers=csrf(admin))
    assert answer.status_code == 422


def test_a_whole_number_written_with_a_fraction_is_a_number(admin: Browser) -> None:
    answer = admin.client.post("/api/v1/notifications/read", json={"ids": [1.0]}, headers=csrf(admin))
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "body", [{"name": "t", "days": "30"}, {"name": "t", "days": True}, {"name": "t", "days": 30, "admin": 1}]
)
def test_a_token_request_with_a_non_number_or_an_unknown_field_is_refused(
    admin: Browser, body: dict[str, object]
) -> None:
    answer = admin.client.post("/api/v1/tokens", json=body, headers=csrf(admin))
    assert answer.status_code == 422


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/apps", {"per_page": 1_000_000}),
        ("/api/v1/apps", {"per_page": 0}),
        ("/api/v1/apps", {"page": 0}),
        ("/api/v1/apps", {"page": -1}),
        ("/api/v1/audit", {"per_page": 1_000_000}),
        ("/api/v1/audit", {"before": -1}),
        ("/api/v1/domains/1/runs", {"limit": 1_000_000}),
    ],
)
def test_page_sizes_past_the_cap_and_negative_offsets_are_422(
    admin: Browser, path: str, params: dict[str, int]
) -> None:
    assert admin.client.get(path, params=params).status_code == 422


def test_a_page_past_the_end_is_the_last_page(admin: Browser) -> None:
    answer = admin.client.get("/api/v1/apps", params={"page": 10**30})
    assert answer.status_code == 200
    assert answer.json()["page"] == answer.json()["pages"]
    assert admin.client.get("/apps", params={"page": str(10**30), "per_page": "1000000"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/apps", {"sort": "password_hash"}),
        ("/api/v1/apps", {"sort": "name; DROP TABLE apps"}),
        ("/api/v1/apps", {"dir": "sideways"}),
        ("/api/v1/apps", {"status": "' OR 1=1 --"}),
        ("/api/v1/apps/export", {"format": "xlsx"}),
        ("/api/v1/apps", {"order_by": "id"}),
        ("/api/v1/audit", {"sort": "actor"}),
        ("/api/v1/users", {"sort": "password_hash"}),
        ("/api/v1/domains", {"filter": "1=1"}),
        ("/api/v1/domains/1/runs", {"sort": "id"}),
        ("/api/v1/tokens", {"user_id": "1"}),
    ],
)
def test_a_sort_or_filter_outside_the_allowlist_is_422(
    admin: Browser, path: str, params: dict[str, str]
) -> None:
    assert admin.client.get(path, params=params).status_code == 422


@pytest.mark.parametrize("text", ["' OR '1'='1", '"; DROP TABLE users; --', "%", "_", "\\", "a%'--"])
def test_sql_metacharacters_in_searches_are_only_text(admin: Browser, runtime: Runtime, text: str) -> None:
    every = admin.client.get("/api/v1/audit").json()["total"]
    assert every > 0
    for name in ("actor", "target"):
        found = admin.client.get("/api/v1/audit", params={name: text})
        assert found.status_code == 200
        assert found.json()["total"] == 0, (name, text)  # no actor or target holds the text itself
    assert admin.client.get("/api/v1/apps", params={"q": text}).json()["total"] == 0
    assert admin.client.get("/apps", params={"q": text, "sort": text}).status_code == 200
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_csv_cells_that_a_spreadsheet_would_run_are_text() -> None:
    leaders = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']
    rows = [{"value": value} for value in [*leaders, "plain", "a=b"]]
    written = "".join(export_chunks("csv", ["value"], rows))
    cells = [row[0] for row in csv.reader(io.StringIO(written))][1:]
    assert cells == [f"'{value}" for value in leaders] + ["plain", "a=b"]


def test_a_domain_name_with_cr_lf_never_reaches_an_email_header(runtime: Runtime, tmp_path: Path) -> None:
    smtp = SmtpServer()
    smtp.start()
    try:
        mailer = Runtime.start(
            replace(
                runtime.settings, smtp_host="127.0.0.1", smtp_port=smtp.port, mail_from="appgov@example.com"
            )
        )
        with mailer.sessions.begin() as session:
            user_id = session.scalar(select(User.id).where(User.email == ADMIN))
            domain = Domain(
                site_url="https://evil.atlassian.net", name="evil\r\nBcc: mallory@example.com\r\n\r\nhi",
                products=["jira"], created_at=datetime.now(UTC), created_by=ADMIN, created_via="console",
                created_by_user_id=user_id,
            )  # fmt: skip
            session.add(domain)
            session.flush()
            domain_id = domain.id
        assert events.mark_ready(mailer, domain_id)
        assert send(mailer) == 1
        [email] = smtp.inbox.messages
        assert smtp.inbox.recipients == [[ADMIN]]
        assert email["Subject"] == "appgov: evilBcc: mallory@example.comhi is ready"
        assert email["Bcc"] is None
        mailer.engine.dispose()
    finally:
        smtp.stop()
