"""Who is signed in, what they may do, and the CSRF token cookie-session clients send back in
``X-CSRF-Token`` (an API token's caller needs none)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from appgov.accounts.permissions import ROLE_PERMISSIONS, Permission, Role
from appgov.web.auth import Viewer, require

router = APIRouter(tags=["session"])


class SessionOut(BaseModel):
    email: str
    name: str
    role: Role
    permissions: list[Permission]
    csrf_token: str | None


@router.get("/session")
def current_session(viewer: Annotated[Viewer, require(Permission.READ)]) -> SessionOut:
    user = viewer.user
    role = Role(user.role)
    return SessionOut(
        email=user.email, name=user.name, role=role, permissions=sorted(ROLE_PERMISSIONS[role]),
        csrf_token=viewer.csrf_token,
    )  # fmt: skip
