"""Who is signed in, and the CSRF token API clients send back in ``X-CSRF-Token``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from appgov.accounts.permissions import Permission
from appgov.web.auth import Viewer, require

router = APIRouter(tags=["session"])


class SessionOut(BaseModel):
    email: str
    name: str
    is_admin: bool
    csrf_token: str


@router.get("/session")
def current_session(viewer: Annotated[Viewer, require(Permission.READ)]) -> SessionOut:
    user = viewer.user
    return SessionOut(email=user.email, name=user.name, is_admin=user.is_admin, csrf_token=viewer.csrf_token)
