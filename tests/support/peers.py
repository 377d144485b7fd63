"""The popular third-party Atlassian clients, each in its own cached virtualenv, driven unchanged.

Each tool pins a different ``requests`` (docs/simulator/peers.md), so each gets its own virtualenv, built once
with ``python -m venv`` and pip from PyPI under ``${APPGOV_PEER_CACHE:-~/.cache/appgov/peers}``.
A marker file records the pins it was built with: a change of pins rebuilds it. A driver script
from ``tests/peers/`` then runs inside the virtualenv and prints, as JSON, the natural keys of
everything the tool read.

The taps force ``https://`` and ignore ``REQUESTS_CA_BUNDLE`` (they call ``Session.send``), so the
simulator's self-signed certificate is added to each virtualenv's own certifi bundle (§0, §9).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appgov_sim.tls import ensure_certificate
from support.simulator import Simulator

DRIVERS = Path(__file__).resolve().parent.parent / "peers"
PINS_FILE = "appgov-pins.txt"
PRISTINE_BUNDLE = "appgov-certifi-pristine.pem"
BUILD_TIMEOUT = 1500.0
RUN_TIMEOUT = 300.0
# CA settings that would make the library drivers use the system bundle instead of certifi's
CA_ENVIRONMENT = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    version: str
    requirements: tuple[str, ...]
    driver: str  # a script under tests/peers/

    @property
    def home(self) -> Path:
        return _cache_root() / f"{self.name}-{self.version}"

    @property
    def lock(self) -> Path:
        return self.home.with_name(self.home.name + ".lock")

    @property
    def python(self) -> Path:
        return self.home / "bin" / "python"

    def pins(self) -> str:
        return "\n".join([f"python {sys.version_info.major}.{sys.version_info.minor}", *self.requirements])


def _cache_root() -> Path:
    return Path(os.environ.get("APPGOV_PEER_CACHE") or Path.home() / ".cache" / "appgov" / "peers")


PEERS: dict[str, Peer] = {
    peer.name: peer
    for peer in (
        Peer("atlassian-python-api", "5.0.5", ("atlassian-python-api==5.0.5",), "atlassian_python_api.py"),
        Peer("jira", "3.10.5", ("jira==3.10.5",), "pycontribs_jira.py"),
        Peer("tap-jira", "2.6.0", ("tap-jira==2.6.0",), "singer_tap_jira.py"),
        Peer(
            "airbyte-source-jira",
            "4.0.0",
            ("airbyte-source-jira==4.0.0", "airbyte-cdk==6.61.6"),
            "airbyte_source_jira.py",
        ),
    )
}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock across processes: pytest-xdist workers may build or trust at the same time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(peer: Peer) -> Path:
    """The peer's virtualenv, built from PyPI unless one with the same pins is cached."""
    with _locked(peer.lock):
        marker = peer.home / PINS_FILE
        if not (marker.exists() and marker.read_text() == peer.pins()):
            _build(peer)
    return peer.home


def _build(peer: Peer) -> None:
    shutil.rmtree(peer.home, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(peer.home)], check=True, timeout=BUILD_TIMEOUT)
    pip = [str(peer.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *peer.requirements, "certifi"], check=True, timeout=BUILD_TIMEOUT)
    shutil.copyfile(_certifi_bundle(peer), peer.home / PRISTINE_BUNDLE)
    # written last: a build cut short leaves no marker and is redone
    (peer.home / PINS_FILE).write_text(peer.pins())


def _certifi_bundle(peer: Peer) -> Path:
    where = subprocess.run(
        [str(peer.python), "-c", "import certifi; print(certifi.where())"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Path(where.stdout.strip())


def https_simulator(profile: str) -> Simulator:
    """A simulator over HTTPS with the one certificate the peers trust.

    Each simulator would otherwise make its own self-signed certificate, all with the same subject:
    OpenSSL then picks the first one in the bundle as the issuer and the others fail to verify.
    The simulator reuses a certificate it finds in its data directory, so every simulator started
    here gets a copy of one certificate made once and kept in the cache.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="appgov-peer-sim-"))
    tls = _cache_root() / "simulator-tls"
    with _locked(tls.with_name(tls.name + ".lock")):
        ensure_certificate(tls)
    for name in ("cert.pem", "key.pem"):
        shutil.copy2(tls / name, data_dir / name)
    return Simulator(profile, https=True, data_dir=data_dir)


def trust_certificate(peer: Peer, certificate: Path) -> None:
    """Make the peer's certifi bundle its pristine copy plus ``certificate``, and nothing else."""
    bundle = _certifi_bundle(peer)
    with _locked(peer.lock):
        wanted = (peer.home / PRISTINE_BUNDLE).read_text() + "\n" + certificate.read_text()
        if bundle.read_text() != wanted:
            bundle.write_text(wanted)


def driver_config(sim: Simulator, sets: list[str], **extra: Any) -> dict[str, Any]:
    """What a driver reads on stdin: the ``acme`` site, its admin's API token, the sets to read."""
    admin = sim.state["accounts"]["site_admin"]
    site_url = sim.site_url("acme")
    return {
        "site_url": site_url,
        "domain": site_url.split("://", 1)[1],  # the taps take host:port[/path] and add https://
        "email": admin["email"],
        "api_token": admin["api_token"],
        "start_date": "2020-01-01T00:00:00Z",
        "sets": sets,
        **extra,
    }


@dataclass(slots=True)
class DriverRun:
    data: dict[str, Any]  # data set name -> the natural keys the tool read (server_info: facts)
    errors: dict[str, str]  # data set name -> why the tool failed to read it
    seconds: dict[str, float]
    stderr: str


def run_driver(peer: Peer, config: dict[str, Any]) -> DriverRun:
    """Run the peer's driver in its virtualenv with ``config`` on stdin; it prints JSON on stdout."""
    env = {k: v for k, v in os.environ.items() if k not in CA_ENVIRONMENT}
    result = subprocess.run(
        [str(peer.python), str(DRIVERS / peer.driver)],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{peer.name} driver failed ({result.returncode}):\n{result.stderr[-6000:]}")
    out = json.loads(result.stdout)
    return DriverRun(out["data"], out["errors"], out["seconds"], result.stderr)
