"""Sign-in and sign-out.

The sign-in form has no session yet, so it is protected by a double-submit
token (a random cookie repeated in the form). Cookies are HttpOnly,
SameSite=Strict, and Secure outside development.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from admin.deps import ConsoleDep, StaffDep, check_csrf
from admin.errors import CsrfRejected, SignInRefused
from admin.web import SESSION_COOKIE, SIGN_IN_COOKIE, render

router = APIRouter()


def _sign_in_page(
    request: Request, console: ConsoleDep, status: int = 200, **extra: object
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "sign_in.html", status=status, sign_in_token=token, **extra)
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        max_age=1800,
        httponly=True,
        samesite="strict",
        secure=console.settings.cookie_secure,
    )
    return response


@router.get("/sign-in")
async def sign_in_form(request: Request, console: ConsoleDep) -> Response:
    return _sign_in_page(request, console, error=None, tenant="", login="")


@router.post("/sign-in")
async def sign_in(request: Request, console: ConsoleDep) -> Response:
    form = await request.form()
    token, cookie = form.get("sign_in_token"), request.cookies.get(SIGN_IN_COOKIE)
    if not isinstance(token, str) or not cookie or not secrets.compare_digest(token, cookie):
        raise CsrfRejected("the sign-in form is stale; reload the page and try again")
    tenant, login, password = (str(form.get(k) or "") for k in ("tenant", "login", "password"))
    try:
        session = await console.staff.sign_in(tenant.strip(), login, password)
    except SignInRefused as refused:
        return _sign_in_page(
            request,
            console,
            status=401,
            error=refused.detail,
            tenant=tenant[:64],
            login=login[:120],
        )
    earlier = await console.staff.session(request.cookies.get(SESSION_COOKIE, ""))
    if earlier is not None:  # one browser, one session: the old one ends here
        await console.staff.sign_out(earlier)
    response = RedirectResponse("/policy", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.key,
        httponly=True,
        samesite="strict",
        secure=console.settings.cookie_secure,
    )
    response.delete_cookie(SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, console: ConsoleDep, staff: StaffDep) -> Response:
    await check_csrf(request, staff)
    await console.staff.sign_out(staff)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
async def home(staff: StaffDep) -> Response:
    return RedirectResponse("/policy", status_code=303)
