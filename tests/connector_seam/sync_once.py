"""``python -m connector_seam.sync_once DATA_DIR DATABASE_URL DOMAIN_ID``: one sync of a toy domain in a
process of its own, which ``APPGOV_FAULT_POINT`` may kill mid-way (as it kills ``appgov sync``)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from appgov.runtime import Runtime
from appgov.sync.service import sync_domain
from connector_seam.toy import register, settings

if __name__ == "__main__":
    data_dir, database_url, domain_id = sys.argv[1:4]
    register()
    runtime = Runtime.start(settings(Path(data_dir), database_url))
    run = asyncio.run(sync_domain(runtime, int(domain_id)))
    print(run.status)
