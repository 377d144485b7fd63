"""Accepting an invitation: the one public page besides sign-in. The link's holder picks a name and
a password, the account is created with the invited role, and they are signed in. The first
administrator's setup link (``/setup/{token}``, which ``appgov serve`` prints while no user exists) is
an invitation too, whose holder also names their email (WS-08)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from appgov.accounts.passwords import MAX_LENGTH, MIN_LENGTH, PasswordRejected
from appgov.administration.users import InvitationInvalid, accept_invitation, open_invitation
from appgov.web.auth import client_address, request_id_of, runtime_of
from appgov.web.pages.signin import pre_session_form, signed_in, start_session
from appgov.web.templating import render

router = APIRouter()


def _invalid(request: Request, err: InvitationInvalid) -> Response:
    page = {"title": "Invitation not valid", "message": str(err)}
    return render(request, "integrations/message.html", None, 404, **page)


def _sso_only(request: Request) -> Response | None:
    """Where SSO is required an invitation cannot make a password account: the person signs in with
    SSO, which creates their account at the first sign-in."""
    if not runtime_of(request).settings.oidc.required:
        return None
    message = "Sign in with SSO instead: your account is created at your first sign-in."
    return render(
        request,
        "integrations/message.html",
        None,
        403,
        title="Invitations are not used here",
        message=message,
    )


def _form(request: Request, email: str | None, role: str, error: str | None = None) -> Response:
    """The form, posted back to the link it came from (an invitation's or the setup link)."""
    page = {
        "action": request.url.path,
        "email": email,
        "role": role,
        "error": error,
        "min_length": MIN_LENGTH,
    }
    return pre_session_form(request, "invitations/accept.html", 400 if error else 200, **page)


@router.get("/invitations/{token}")
@router.get("/setup/{token}")
def invitation_page(request: Request, token: str) -> Response:
    if refused := _sso_only(request):
        return refused
    runtime = runtime_of(request)
    try:
        with runtime.sessions() as session:
            invitation = open_invitation(session, token, runtime.clock.now())
            email, role = invitation.email, invitation.role
    except InvitationInvalid as err:
        return _invalid(request, err)
    return _form(request, email, role)


@router.post("/invitations/{token}")
@router.post("/setup/{token}")
def accept(
    request: Request,
    token: str,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=MAX_LENGTH)],
    password_again: Annotated[str, Form(max_length=MAX_LENGTH)],
    email: Annotated[str, Form(max_length=320)] = "",  # a setup link's only: an invitation names it
) -> Response:
    if refused := _sso_only(request):
        return refused
    runtime = runtime_of(request)
    now = runtime.clock.now()
    try:
        with runtime.sessions.begin() as session:
            invitation = open_invitation(session, token, now)
            invited, role = invitation.email, invitation.role
            if password != password_again:
                raise PasswordRejected("the two passwords differ")
            user = accept_invitation(
                session, token, name, password, now, email=email, address=client_address(request),
                request_id=request_id_of(request),
            )  # fmt: skip
            cookie, joined = start_session(request, session, user, now), user.email
    except InvitationInvalid as err:
        return _invalid(request, err)
    except ValueError as err:  # a weak password or, on the setup link, a malformed email
        return _form(request, invited, role, f"{str(err)[:1].upper()}{str(err)[1:]}.")
    return signed_in(request, cookie, joined, "/integrations")
