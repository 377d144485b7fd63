"""Benchmark appgov-sim: throughput and latency of paged Jira reads, start-up time and memory.

Starts ``appgov-sim serve`` as its own process and loads it with 8 keep-alive connections:
100-item pages of ``users/search`` (and ``project/search`` once a route serves it) and 1,000-user
pages, each request moving ``startAt`` on, with Basic auth as the site admin from the state file.
The load comes from Debian's ``wrk`` when it is installed, else from a built-in asyncio HTTP/1.1
generator on raw sockets. Then it times how long ``serve --profile large`` (and any other
``--startup`` profile) takes to answer its first request, and reads each simulator's peak RSS.

    .venv/bin/python bench/simulator.py [--profile small] [--duration 10] [--generator auto]

It prints figures; it asserts nothing (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appgov_sim.paging import CAPS
from appgov_sim.tenant.profiles import PROFILES

HOST = "127.0.0.1"
SITE = "acme"
STARTUP_DEADLINE = 120.0
WARMUP_SECONDS = 2.0
LIFTED_RATE = 1e9


# --- the simulator process -------------------------------------------------------------------


@dataclass
class Simulator:
    process: subprocess.Popen[bytes]
    port: int
    startup_seconds: float
    state: dict[str, Any]

    def peak_rss_mb(self) -> float:
        """VmHWM: the most resident memory the process has held since it started."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User plus system CPU the process has used: a figure other load on the machine barely moves."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def basic_auth(self) -> str:
        admin = self.state["accounts"]["site_admin"]
        raw = f"{admin['email']}:{admin['api_token']}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def lift_burst_limit(sim: Simulator) -> None:
    """Raise the site's burst limit (references §7.1: 2,000 req/s) so the figures are the simulator's own."""
    connection = http.client.HTTPConnection(HOST, sim.port, timeout=30)
    body = json.dumps({"concurrency": 1_000_000, "requests_per_second": LIFTED_RATE})
    headers = {"Authorization": f"Bearer {sim.state['control_token']}", "Content-Type": "application/json"}
    try:
        connection.request("PUT", f"/_sim/sites/{SITE}/burst-limit", body, headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise SystemExit(f"could not lift the burst limit: {response.status}")


def serve_command() -> list[str]:
    """The installed ``appgov-sim`` beside this interpreter, else the same CLI as a module."""
    script = Path(sys.executable).with_name("appgov-sim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "appgov_sim"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_simulator(profile: str, seed: int, extra_args: tuple[str, ...] = ()) -> Iterator[Simulator]:
    """Start ``serve`` on a known port and time it until its first answer.

    The port is chosen here rather than with ``--port 0`` so the clock can start before the
    process does: ``serve`` listens before generating the tenant, so the first request waits in
    the backlog and its answer marks the moment the simulator is really serving.
    """
    workdir = Path(tempfile.mkdtemp(prefix="appgov-sim-bench-"))
    state_file = workdir / "state.json"
    port = free_port()
    args = [*serve_command(), "serve", "--host", HOST, "--port", str(port), "--profile", profile]
    args += ["--seed", str(seed), "--state-file", str(state_file), *extra_args]
    started = time.perf_counter()
    with (workdir / "sim.log").open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_first_answer(process, port, workdir)
            startup = time.perf_counter() - started
            state = json.loads(state_file.read_text())
            yield Simulator(process, port, startup, state)
        finally:
            process.terminate()
            process.wait(timeout=30)


def wait_for_first_answer(process: subprocess.Popen[bytes], port: int, workdir: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"simulator exited:\n{(workdir / 'sim.log').read_text()}")
        connection = http.client.HTTPConnection(HOST, port, timeout=STARTUP_DEADLINE)
        try:
            connection.request("GET", f"/sites/{SITE}/rest/api/3/serverInfo")
            connection.getresponse().read()
            return
        except ConnectionError:
            time.sleep(0.005)  # not listening yet: poll again
        finally:
            connection.close()
    raise SystemExit(f"simulator did not answer within {STARTUP_DEADLINE:.0f} s")


# --- what is measured ------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    paths: list[str]  # requested in turn, round-robin, so startAt moves on every request


@dataclass
class Result:
    requests: int
    seconds: float
    errors: int  # socket errors, timeouts and non-2xx answers
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def paged_paths(endpoint: str, total: int, size: int) -> list[str]:
    """One path per page of ``total`` items, ``size`` at a time."""
    base = f"/sites/{SITE}/rest/api/3/{endpoint}?maxResults={size}&startAt="
    return [f"{base}{start}" for start in range(0, max(total, 1), size)]


def scenarios(sim: Simulator, profile: str) -> list[Scenario]:
    size = PROFILES[profile]
    users_cap = CAPS["users/search"][1]
    found = [
        Scenario("users/search, 100 per page", paged_paths("users/search", size.users, 100)),
        Scenario(
            f"project/search, {CAPS['project/search'][1]} per page",
            paged_paths("project/search", size.projects, CAPS["project/search"][1]),
        ),
        Scenario(f"users/search, {users_cap} per page", paged_paths("users/search", size.users, users_cap)),
    ]
    return [s for s in found if served(sim, s.paths[0])]


def served(sim: Simulator, path: str) -> bool:
    """Skip endpoints whose route is not written yet (they answer 404)."""
    connection = http.client.HTTPConnection(HOST, sim.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": sim.basic_auth()})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    if response.status != 200:
        print(f"  skipped {path}: answered {response.status}")
    return response.status == 200


# --- load generator 1: wrk -------------------------------------------------------------------

WRK_SCRIPT = """
local paths = {%(paths)s}
local i = 0
wrk.headers["Authorization"] = "%(auth)s"

request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%%d,"duration_us":%%d,"errors":%%d,"p50":%%d,"p90":%%d,"p99":%%d,"max":%%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def run_wrk(sim: Simulator, scenario: Scenario, connections: int, seconds: float) -> Result:
    paths = ", ".join(json.dumps(p) for p in scenario.paths)
    script = WRK_SCRIPT % {"paths": paths, "auth": sim.basic_auth()}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        # one wrk thread: the simulator is one Python process, so the other core is wrk's
        args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s", "-s", lua.name]
        output = subprocess.run(
            [*args, f"http://{HOST}:{sim.port}"], capture_output=True, text=True, check=True
        ).stdout
    line = next(x for x in output.splitlines() if x.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    return Result(
        data["requests"],
        data["duration_us"] / 1e6,
        data["errors"],
        *(data[k] / 1000 for k in ("p50", "p90", "p99", "max")),
    )


# --- load generator 2: asyncio on raw sockets ------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, of answered 2xx requests
    errors: int = 0


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response: its status, and whether the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").lower().split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    if "content-length" not in headers:
        raise ConnectionError("response without Content-Length")  # not sent by the simulator
    await reader.readexactly(int(headers["content-length"]))
    return status, headers.get("connection") != "close"


async def keep_alive_client(
    port: int, requests: list[bytes], first: int, deadline: float, tally: Tally
) -> None:
    index = first
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.perf_counter() < deadline:
        try:
            if connection is None:
                connection = await asyncio.open_connection(HOST, port)
            reader, writer = connection
            started = time.perf_counter()
            writer.write(requests[index % len(requests)])
            status, keep_alive = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            tally.errors += 1
            connection = None
            continue
        index += 1
        if 200 <= status < 300:
            tally.latencies.append(time.perf_counter() - started)
        else:
            tally.errors += 1
        if not keep_alive:
            writer.close()
            connection = None
    if connection is not None:
        connection[1].close()


async def builtin_load(sim: Simulator, scenario: Scenario, connections: int, seconds: float) -> Result:
    auth = sim.basic_auth()
    requests = [
        f"GET {p} HTTP/1.1\r\nHost: {HOST}:{sim.port}\r\nAuthorization: {auth}\r\n\r\n".encode()
        for p in scenario.paths
    ]
    tally = Tally()
    started = time.perf_counter()
    deadline = started + seconds
    step = max(1, len(requests) // connections)  # spread the connections over the pages
    await asyncio.gather(
        *(keep_alive_client(sim.port, requests, n * step, deadline, tally) for n in range(connections))
    )
    return summarise(tally, time.perf_counter() - started)


def summarise(tally: Tally, seconds: float) -> Result:
    ordered = sorted(tally.latencies) or [0.0]
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return Result(
        len(tally.latencies) + tally.errors,
        seconds,
        tally.errors,
        cuts[49] * 1000,
        cuts[89] * 1000,
        cuts[98] * 1000,
        ordered[-1] * 1000,
    )


def run_builtin(sim: Simulator, scenario: Scenario, connections: int, seconds: float) -> Result:
    import uvloop  # the simulator's own event loop: keeps the client from being the bottleneck

    return uvloop.run(builtin_load(sim, scenario, connections, seconds))


# --- report ----------------------------------------------------------------------------------

GENERATORS = {"wrk": run_wrk, "builtin": run_builtin}


def choose_generator(requested: str) -> str:
    if requested == "auto":
        return "wrk" if shutil.which("wrk") else "builtin"
    if requested == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk), or use --generator builtin")
    return requested


def describe_machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())  # other work on the machine skews req/s
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, load average {load}"


def print_result(name: str, result: Result, cpu_seconds: float) -> None:
    cpu_ms = cpu_seconds * 1000 / result.requests if result.requests else float("nan")
    print(
        f"  {name:<28} {result.rps:>6.0f} req/s  p50 {result.p50_ms:5.1f} ms  p90 {result.p90_ms:5.1f} ms  "
        f"p99 {result.p99_ms:6.1f} ms  max {result.max_ms:6.1f} ms  {result.requests:>6} requests  "
        f"{result.errors} errors  {cpu_ms:.2f} ms simulator CPU/request"
    )


def load_phase(args: argparse.Namespace, generator: str) -> None:
    run = GENERATORS[generator]
    with running_simulator(args.profile, args.seed) as sim:
        print(f"profile {args.profile}: first answer after {sim.startup_seconds:.2f} s")
        print(f"load: {generator}, {args.connections} keep-alive connections, {args.duration:g} s each")
        if args.keep_burst_limit:
            print("burst limit: Atlassian's (answers past it count as errors)")
        else:
            lift_burst_limit(sim)
            print("burst limit: lifted through the control API (--keep-burst-limit keeps Atlassian's)")
        for scenario in scenarios(sim, args.profile):
            run(sim, scenario, args.connections, WARMUP_SECONDS)
            cpu_before = sim.cpu_seconds()
            result = run(sim, scenario, args.connections, args.duration)
            print_result(scenario.name, result, sim.cpu_seconds() - cpu_before)
        print(f"  peak RSS of the {args.profile} simulator: {sim.peak_rss_mb():.0f} MB")


def startup_phase(profiles: list[str], seed: int) -> None:
    for profile in profiles:
        with running_simulator(profile, seed) as sim:
            print(
                f"serve --profile {profile}: first answer after {sim.startup_seconds:.2f} s, "
                f"peak RSS {sim.peak_rss_mb():.0f} MB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--profile", default="small", choices=list(PROFILES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per scenario")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--generator", default="auto", choices=["auto", *GENERATORS])
    parser.add_argument(
        "--keep-burst-limit",
        action="store_true",
        help="keep the site's 2,000 req/s burst limit instead of lifting it",
    )
    parser.add_argument(
        "--startup",
        default="large",
        help="comma-separated profiles to time from start to first answer ('' for none)",
    )
    args = parser.parse_args()
    generator = choose_generator(args.generator)
    print(f"machine: {describe_machine()}")
    load_phase(args, generator)
    startup_phase([p for p in args.startup.split(",") if p], args.seed)


if __name__ == "__main__":
    main()
