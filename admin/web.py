"""Rendering pages: the Jinja2 environment (autoescaped), security headers,
the session cookie, and the error pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from admin.errors import SignInRequired
from admin.staff.schemas import may
from chat_service.errors import ChatError

__all__ = [
    "SESSION_COOKIE",
    "SIGN_IN_COOKIE",
    "error_handler",
    "render",
    "security_headers",
]

SESSION_COOKIE = "admin_session"
# Double-submit token of the sign-in form (there is no session yet to hold one).
SIGN_IN_COOKIE = "admin_sign_in"
TEMPLATES = Path(__file__).parent / "templates"

# No scripts at all; inline styles only for the e-mail preview frames.
_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["may"] = may
    env.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""
    return env


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    staff = getattr(request.state, "staff", None)
    body = environment().get_template(name).render(request=request, staff=staff, **context)
    return HTMLResponse(body, status_code=status)


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@dataclass(frozen=True)
class _PageError:
    status: int
    code: str
    detail: str


async def error_handler(request: Request, exc: Exception) -> Response:
    """Deliberate errors (``ChatError``) and routing ones (404, 405) as pages."""
    if isinstance(exc, SignInRequired) and request.method == "GET":
        return RedirectResponse("/sign-in", status_code=303)
    if isinstance(exc, ChatError):
        error = _PageError(exc.status, exc.code, exc.detail)
    elif isinstance(exc, StarletteHTTPException):
        code = "not_found" if exc.status_code == 404 else "request_refused"
        error = _PageError(exc.status_code, code, str(exc.detail))
    else:
        raise exc
    return render(request, "error.html", status=error.status, error=error)
