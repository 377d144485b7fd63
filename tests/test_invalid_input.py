"""Input a route cannot read gets 422 naming the field and what is wrong, never the value sent (it may be
a password or an API token): JSON for the REST API, a page for the console's forms."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appgov.runtime import Runtime
from support.console import csrf_of
from support.in_process import ADMIN, Browser, started

SECRET = "s3cret-" + "x" * 3000


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    yield from started(tmp_path)


def test_a_sign_in_with_an_over_long_password_is_a_page_without_the_password(runtime: Runtime) -> None:
    browser = Browser(runtime)
    form = {"email": ADMIN, "password": SECRET, "csrf_token": csrf_of(browser.client.get("/login").text)}

    answer = browser.client.post("/login", data=form)

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert "password" in answer.text
    assert "s3cret" not in answer.text


def test_an_api_body_with_a_huge_token_is_refused_without_echoing_it(runtime: Runtime) -> None:
    admin = Browser(runtime).sign_in(ADMIN)
    body = {"site_url": "https://acme.atlassian.net", "email": "a@example.com", "api_token": SECRET}

    answer = admin.client.post("/api/v1/domains", json=body, headers={"X-CSRF-Token": admin.csrf})

    assert answer.status_code == 422
    assert "s3cret" not in answer.text
    assert [error["loc"] for error in answer.json()["detail"]] == [["body", "api_token"]]
    assert all("input" not in error for error in answer.json()["detail"])


def test_a_form_field_of_the_wrong_kind_is_a_page_naming_it_for_a_signed_in_user(runtime: Runtime) -> None:
    admin = Browser(runtime).sign_in(ADMIN)

    answer = admin.client.post(
        "/users/invite", data={"email": SECRET, "role": "root", "csrf_token": admin.csrf}
    )

    assert answer.status_code == 422
    assert "s3cret" not in answer.text
    assert "role" in answer.text
    assert 'href="/account"' in answer.text  # the page is the signed-in console's, not a bare error
