"""The ``appgov-sim`` command line: ``serve`` and ``ground-truth``."""

from __future__ import annotations

import json
import socket
import tempfile
from pathlib import Path
from typing import Annotated

import httpx
import typer
import uvicorn
from starlette.convertors import Convertor, register_url_convertor

from appgov_sim.groundtruth import ground_truth
from appgov_sim.state import SimConfig, SimState, write_json_atomically
from appgov_sim.tenant.generate import generate
from appgov_sim.tenant.model import FORGE_SOURCES, Switches
from appgov_sim.tenant.profiles import PROFILES
from appgov_sim.tls import ensure_certificate

app = typer.Typer(help="appgov-sim: a local Atlassian Cloud simulator.", no_args_is_help=True)


class ApiVersionConvertor(Convertor[str]):
    """Jira's REST versions: /rest/api/2, /rest/api/3 and /rest/api/latest."""

    regex = "2|3|latest"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("apiversion", ApiVersionConvertor())


def _check_profile(value: str) -> str:
    if value not in PROFILES:
        raise typer.BadParameter(f"choose one of {', '.join(PROFILES)}")
    return value


def _check_forge_apps(value: str) -> str:
    if value not in FORGE_SOURCES:
        raise typer.BadParameter(f"choose one of {', '.join(FORGE_SOURCES)}")
    return value


ForgeApps = Annotated[
    str,
    typer.Option(callback=_check_forge_apps, help="where Forge apps are listed: gateway | upm | both"),
]
AppAuditRecords = Annotated[
    bool, typer.Option(help="show app changes in the Jira and Confluence audit logs (not Atlassian's)")
]
UpmLogFeed = Annotated[bool, typer.Option(help="serve the plugin manager's Atom feed (unverified on Cloud)")]
GatewayPermissions = Annotated[
    bool, typer.Option(help="the gateway shows installed Forge apps' scopes and egress (unverified)")
]


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(help="0 picks a free port (see --state-file)")] = 8800,
    profile: Annotated[str, typer.Option(callback=_check_profile)] = "small",
    seed: int = 1,
    latency_ms: Annotated[float, typer.Option(help="latency added to every site request")] = 0.0,
    https: Annotated[bool, typer.Option(help="serve TLS with a self-signed certificate")] = False,
    hostile: Annotated[bool, typer.Option(help="fill vendor-controlled text with hostile strings")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="keep tenant changes, grants and tokens here")] = None,
    state_file: Annotated[
        Path | None, typer.Option(help="write URLs, accounts and secrets here as JSON")
    ] = None,
    redirect_uri: Annotated[list[str] | None, typer.Option(help="registered OAuth redirect URIs")] = None,
    forge_apps: ForgeApps = "gateway",
    app_audit_records: AppAuditRecords = False,
    upm_log_feed: UpmLogFeed = False,
    gateway_permissions: GatewayPermissions = True,
) -> None:
    """Serve the simulated Atlassian Cloud tenant."""
    from appgov_sim.app import create_app  # after the convertor is registered

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # listening before the state file appears: early clients wait in the backlog
    config = SimConfig(
        host=host,
        port=sock.getsockname()[1],
        profile=profile,
        seed=seed,
        hostile=hostile,
        https=https,
        latency_ms=latency_ms,
        data_dir=data_dir,
        state_file=state_file,
        switches=Switches(forge_apps, app_audit_records, upm_log_feed, gateway_permissions),
    )
    if redirect_uri:
        config.redirect_uris = list(redirect_uri)
    state = SimState(config)
    asgi = create_app(state)
    state.load()
    state.save()
    cert = key = None
    if https:
        cert, key = ensure_certificate(data_dir or Path(tempfile.mkdtemp(prefix="appgov-sim-tls-")))
        config.cert_path = cert
    server = uvicorn.Server(
        uvicorn.Config(
            asgi,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_level="warning",
            lifespan="off",
            ssl_certfile=str(cert) if cert else None,
            ssl_keyfile=str(key) if key else None,
        )
    )
    if state_file:
        write_json_atomically(state_file, state.state_file_body())
    typer.echo(
        f"appgov-sim {profile}/{seed} serving at {config.base_url} (sites: "
        f"{', '.join(s.name for s in state.tenant.sites)})",
        err=True,
    )
    server.run(sockets=[sock])


@app.command("ground-truth")
def ground_truth_command(
    profile: Annotated[str, typer.Option(callback=_check_profile)] = "small",
    seed: int = 1,
    hostile: bool = False,
    url: Annotated[
        str | None, typer.Option(help="ask a running simulator (after control-API changes)")
    ] = None,
    control_token: str | None = None,
    forge_apps: ForgeApps = "gateway",
    app_audit_records: AppAuditRecords = False,
    gateway_permissions: GatewayPermissions = True,
) -> None:
    """Print, per site and product, the count and digest of every data set."""
    if url:
        response = httpx.get(
            f"{url.rstrip('/')}/_sim/ground-truth",
            verify=False,  # noqa: S501 - self-signed
            headers={"Authorization": f"Bearer {control_token or ''}"},
            timeout=60,
        )
        response.raise_for_status()
        typer.echo(json.dumps(response.json(), indent=2))
        return
    tenant = generate(profile, seed, hostile)
    tenant.switches = Switches(forge_apps, app_audit_records, gateway_permissions=gateway_permissions)
    typer.echo(json.dumps(ground_truth(tenant), indent=2))
