"""Named crash sites for kill-and-resume tests (reliability harness notes).

``APPGOV_FAULT_POINT=name`` (optionally ``name:N``, the Nth time it is reached) makes the process
SIGKILL itself there: deterministic crashes at the places that matter, instead of random chaos.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()


def fault_point(name: str) -> None:
    armed = os.environ.get("APPGOV_FAULT_POINT")
    if not armed:
        return
    target, _, nth = armed.partition(":")
    if target != name:
        return
    _reached[name] += 1
    if _reached[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
