"""Jira users/search over real HTTP: bare arrays paged until a short page."""

from support.simulator import Simulator


def test_users_search_pages_through_every_user_with_the_1000_cap(sim_small: Simulator) -> None:
    truth = sim_small.ground_truth()["sites"]["acme"]["products"]["jira"]["users"]
    seen: list[str] = []
    start = 0
    pages = 0
    while True:
        response = sim_small.site_get(
            "/rest/api/3/users/search", params={"startAt": start, "maxResults": 5000}
        )
        assert response.status_code == 200
        page = response.json()
        assert isinstance(page, list)
        assert len(page) <= 1000
        seen += [user["accountId"] for user in page]
        pages += 1
        if len(page) < 1000:
            break
        start += len(page)
    assert pages >= 3
    assert len(seen) == truth["count"] == len(set(seen))


def test_users_search_without_credentials_is_401_with_the_seraph_header(sim: Simulator) -> None:
    response = sim.get(sim.site_url() + "/rest/api/3/users/search")
    assert response.status_code == 401
    assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert response.json() == {
        "message": "Client must be authenticated to access this resource.",
        "status-code": 401,
    }


def test_garbage_start_at_is_a_400_error_collection(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/users/search", params={"startAt": "abc"})
    assert response.status_code == 400
    assert "startAt" in response.json()["errors"]
