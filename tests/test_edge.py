"""``/_edge/tenant_info`` over real HTTP: the unauthenticated cloudId lookup."""

from support.simulator import Simulator


def test_tenant_info_gives_each_site_its_cloud_id_without_credentials(sim: Simulator) -> None:
    for site in sim.state["sites"]:
        response = sim.get(site["base_url"] + "/_edge/tenant_info")
        assert response.status_code == 200
        assert response.json() == {"cloudId": site["cloud_id"]}


def test_tenant_info_ignores_bad_credentials(sim: Simulator) -> None:
    response = sim.get(sim.site_url() + "/_edge/tenant_info", headers={"Authorization": "Basic garbage"})
    assert response.json() == {"cloudId": sim.site()["cloud_id"]}


def test_tenant_info_of_an_unknown_site_is_404(sim: Simulator) -> None:
    assert sim.get("/sites/no-such-site/_edge/tenant_info").status_code == 404


def test_tenant_info_answers_get_only(sim: Simulator) -> None:
    assert sim.http.post(sim.site_url() + "/_edge/tenant_info").status_code == 405
