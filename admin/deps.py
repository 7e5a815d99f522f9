"""Request dependencies: the console's services, the signed-in staff member,
CSRF checks and role checks, as named types for the page handlers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from admin.config import AdminSettings
from admin.errors import CsrfRejected, RoleForbidden, SignInRequired
from admin.staff.schemas import Permission, StaffSession, may
from admin.staff.service import StaffService
from admin.subjects import SubjectRequests
from admin.web import SESSION_COOKIE
from chat_service.services import Services

__all__ = ["Console", "ConsoleDep", "StaffDep", "allowed", "allowed_post", "check_csrf"]


@dataclass
class Console:
    settings: AdminSettings
    services: Services
    staff: StaffService
    subjects: SubjectRequests


def _console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(_console)]


async def _current_staff(request: Request, console: ConsoleDep) -> StaffSession:
    session = await console.staff.session(request.cookies.get(SESSION_COOKIE, ""))
    if session is None:
        raise SignInRequired("sign in to continue (sessions end after a period of inactivity)")
    request.state.staff = session
    return session


StaffDep = Annotated[StaffSession, Depends(_current_staff)]


async def check_csrf(request: Request, staff: StaffSession) -> None:
    """Refuse the request unless its form carries this session's CSRF token."""
    form = await request.form()
    token = form.get("csrf")
    if not isinstance(token, str) or not secrets.compare_digest(token, staff.csrf):
        raise CsrfRejected("the form is missing its security token or it is stale; reload the page")


def allowed(permission: Permission) -> Any:
    """A GET dependency: the staff member, if their role allows ``permission``."""

    async def dependency(staff: StaffDep) -> StaffSession:
        if not may(staff.role, permission):
            raise RoleForbidden(f"your role ({staff.role}) does not allow this ({permission})")
        return staff

    return Depends(dependency)


def allowed_post(permission: Permission) -> Any:
    """A POST dependency: CSRF token checked first, then the role."""

    async def dependency(request: Request, staff: StaffDep) -> StaffSession:
        await check_csrf(request, staff)
        if not may(staff.role, permission):
            raise RoleForbidden(f"your role ({staff.role}) does not allow this ({permission})")
        return staff

    return Depends(dependency)
