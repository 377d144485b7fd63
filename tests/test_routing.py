"""Route lookup (``appgov_sim.routing``) over real HTTP: remembering a path's route changes no answer."""

from __future__ import annotations

from support.simulator import Simulator


def test_each_method_on_a_path_keeps_its_own_answer_in_any_order(sim: Simulator) -> None:
    # the plugin manager's root is two routes: GET lists the apps, POST installs (403 without a token)
    url = sim.site_url() + "/rest/plugins/1.0/"
    answers = [
        sim.http.request(method, url, headers=sim.basic()).status_code
        for method in ("POST", "GET", "POST", "GET", "DELETE", "GET", "DELETE", "POST")
    ]
    assert answers == [403, 200, 403, 200, 405, 200, 405, 403]


def test_path_parameters_come_from_each_request_not_the_first_one_seen(sim: Simulator) -> None:
    projects = sim.site_get("/rest/api/3/project/search").json()["values"]
    keys = [p["key"] for p in projects[:2]]
    assert len(keys) == 2
    for key in [*keys, *keys]:
        response = sim.site_get(f"/rest/api/3/project/{key}")
        assert response.status_code == 200
        assert response.json()["key"] == key


def test_the_same_path_on_another_site_is_answered_by_that_site(sim: Simulator) -> None:
    titles = {
        name: sim.get(sim.site_url(name) + "/rest/api/3/serverInfo").json()["serverTitle"]
        for name in ("acme", "acme-eng", "acme")
    }
    assert titles["acme"] != titles["acme-eng"]
    wiki_only = sim.get(sim.site_url("acme-wiki") + "/rest/api/3/serverInfo")
    assert wiki_only.status_code == 404


def test_an_unknown_path_stays_unknown_after_known_ones(sim: Simulator) -> None:
    for _ in range(2):
        assert sim.site_get("/rest/api/3/users/search").status_code == 200
        response = sim.site_get("/rest/api/3/no-such-resource")
        assert response.status_code == 404
        assert response.json()["errorMessages"][0].startswith("null for uri: ")
