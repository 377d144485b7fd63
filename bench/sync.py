"""Benchmark a full appgov sync against the simulator: wall time, requests, retries, peak RSS, rows/s.

Starts ``appgov-sim serve --profile large --latency-ms 20``, connects its main site with an API token
(the real ``add_domain`` path), runs a full sync in a child process (so its peak RSS is its own), then
a second sync (audit logs incremental), then the same first sync on ``xl`` for its peak RSS.

It also prints the lower bound of the first sync's wall time computed from the **simulator's**
limits, not appgov's settings: with N requests, a burst limit of C concurrent requests and R
requests per second, and L seconds of injected latency per request, no client can finish sooner than
``N / min(R, C / L)``. Targets (issue 3): wall time within 1.5x of that bound; peak RSS under 300 MB;
xl/large peak RSS ratio at most 1.2.

    .venv/bin/python bench/sync.py [--profile large] [--latency-ms 20] [--skip-xl]

It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appgov.config import Settings

from simulator import Simulator, running_simulator

SITE = "acme"


def child(config: dict[str, Any]) -> None:
    """In the child process: one sync of the domain, then the figures as JSON on stdout."""
    from appgov.integrations.domains import find_domain
    from appgov.runtime import Runtime
    from appgov.sync.service import sync_domain

    runtime = Runtime.start(settings_of(config))
    with runtime.sessions() as session:
        domain_id = find_domain(session, SITE).id

    started = time.perf_counter()
    result = asyncio.run(sync_domain(runtime, domain_id))
    wall = time.perf_counter() - started
    rows = sum(v for v in (result.counts or {}).values() if isinstance(v, int))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "status": result.status,
                "wall": wall,
                "requests": result.requests,
                "retries": result.retries,
                "rows": rows,
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "cpu": usage.ru_utime + usage.ru_stime,
                "errors": result.errors,
            }
        )
    )


def settings_of(config: dict[str, Any]) -> Settings:
    from appgov.config import AtlassianSettings, Settings

    atlassian = AtlassianSettings(marketplace_url=config["marketplace_url"])
    fields = {k: v for k, v in config.items() if k != "marketplace_url"}
    return Settings(**{**fields, "data_dir": Path(config["data_dir"]), "atlassian": atlassian})


def settings_for(sim: Simulator, data_dir: Path) -> dict[str, Any]:
    base = f"http://127.0.0.1:{sim.port}"
    return {
        "data_dir": str(data_dir),
        "database_url": f"sqlite:///{data_dir / 'appgov.db'}",
        "allowed_hosts": [f"127.0.0.1:{sim.port}"],
        "marketplace_url": f"{base}/marketplace",
        "sync_concurrency": int(os.environ.get("APPGOV_SYNC_CONCURRENCY", "16")),
    }


def connect(sim: Simulator, config: dict[str, Any]) -> None:
    from appgov.accounts.principal import cli_user
    from appgov.integrations.domains import add_domain
    from appgov.runtime import Runtime

    runtime = Runtime.start(settings_of(config))
    admin = sim.state["accounts"]["site_admin"]
    site_url = next(s["base_url"] for s in sim.state["sites"] if s["name"] == SITE)
    asyncio.run(add_domain(runtime, site_url, admin["email"], admin["api_token"], cli_user("bench")))


def sync_once(config: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(config)], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def site_burst_limit() -> tuple[int, float]:
    """The simulator's burst limit for a site (its default: this benchmark does not change it)."""
    from appgov_sim.tenant.model import BurstLimit

    limit = BurstLimit()
    return limit.concurrency, limit.requests_per_second


def report(label: str, figures: dict[str, Any], bound: float | None = None) -> None:
    rate = figures["rows"] / figures["wall"]
    line = (
        f"{label:<24} {figures['status']:<8} wall {figures['wall']:7.1f} s  requests {figures['requests']:>7}"
        f"  retries {figures['retries']:>5,}  rows {figures['rows']:>9,}  rows/s {rate:>9,.0f}"
        f"  peak RSS {figures['peak_rss_mb']:6.0f} MB  appgov CPU {figures['cpu']:6.1f} s"
    )
    if bound is not None:
        line += f"  lower bound {bound:6.1f} s  ratio {figures['wall'] / bound:4.2f}x"
    print(line, flush=True)


def bench_profile(profile: str, latency_ms: float, second: bool) -> dict[str, Any]:
    extra = ("--latency-ms", str(latency_ms)) if latency_ms else ()
    with running_simulator(profile, 1, extra) as sim:
        config = settings_for(sim, Path(tempfile.mkdtemp(prefix=f"appgov-bench-{profile}-")))
        connect(sim, config)
        first = sync_once(config)
        concurrency, rate = site_burst_limit()
        latency = latency_ms / 1000
        bound = first["requests"] / min(rate, concurrency / latency if latency else rate)
        report(f"{profile}: first sync", first, bound)
        if second:
            report(f"{profile}: second sync", sync_once(config))
        return first


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--profile", default="large")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--skip-xl", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    print(
        f"appgov sync benchmark: profile {args.profile}, {args.latency_ms:.0f} ms injected latency, "
        f"sync concurrency {os.environ.get('APPGOV_SYNC_CONCURRENCY', '16')}",
        flush=True,
    )
    large = bench_profile(args.profile, args.latency_ms, second=True)
    if not args.skip_xl and args.profile != "xl":
        xl = bench_profile("xl", args.latency_ms, second=False)
        print(f"xl/{args.profile} peak RSS ratio: {xl['peak_rss_mb'] / large['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
