"""(filled in by its surface's work)"""

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
