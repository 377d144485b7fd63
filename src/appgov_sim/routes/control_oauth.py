"""(filled in by its surface's work)"""

from collections.abc import Callable
from typing import Any

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []

# journaled mutations by name: fn(state, args) -> result (see SimState.apply)
OPERATIONS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {}
