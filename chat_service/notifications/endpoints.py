"""Links in away emails: ``/v1/unsubscribe`` (one-click, RFC 8058) and ``/v1/open``.

``POST /v1/unsubscribe?token=..`` (what mail clients send for
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``) turns away emails off
for the token's user. ``GET`` only shows a page with a button that POSTs:
link scanners and previews fetch GETs, and must not unsubscribe anyone.
The token is verified before anything is read or written.

``GET /v1/open?token=..`` sends the reader to the marketplace (the first
origin of the tenant) with the conversation id in the URL *fragment*, which
browsers never send to servers, so it lands in no access log. The widget
opens it after the user signs in; the token itself grants no access.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import HTMLResponse, RedirectResponse

from chat_service.dependencies import ServicesDep
from chat_service.errors import NotFound
from chat_service.notifications.repository import PreferenceRepository
from chat_service.notifications.service import EmailPreferences
from chat_service.notifications.tokens import NotificationTokens

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["notifications"])
Token = Annotated[str, Query(min_length=1, max_length=1024)]

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<meta name="robots" content="noindex"></head><body><p>{text}</p>{form}</body></html>"""


def _tokens(services: ServicesDep) -> NotificationTokens:
    settings = services.settings
    return NotificationTokens(settings.kek_map(), settings.primary_version())


@router.get("/unsubscribe", response_class=HTMLResponse)
async def confirm_unsubscribe(token: Token, services: ServicesDep) -> HTMLResponse:
    """A confirmation page; changes nothing."""
    _tokens(services).verify("unsubscribe", token, now=services.clock.now())
    form = (
        f'<form method="post" action="/v1/unsubscribe?token={escape(token, quote=True)}">'
        '<button type="submit">Stop away emails</button></form>'
    )
    page = _PAGE.format(
        title="Unsubscribe", text="Stop emails about unread chat messages?", form=form
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.post("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe(token: Token, services: ServicesDep) -> HTMLResponse:
    """Turn away emails off for the token's user (idempotent)."""
    found = _tokens(services).verify("unsubscribe", token, now=services.clock.now())
    preferences = EmailPreferences(PreferenceRepository(services.stores.db), services.clock)
    await preferences.unsubscribe(found.tenant, found.user)
    page = _PAGE.format(
        title="Unsubscribed", text="You will no longer get emails about unread messages.", form=""
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.get("/open", response_class=RedirectResponse, status_code=303)
async def open_conversation(token: Token, services: ServicesDep) -> RedirectResponse:
    """From an away email to the marketplace page that hosts the chat."""
    found = _tokens(services).verify("open", token, now=services.clock.now())
    tenant = await services.tenants.get(found.tenant)
    if tenant is None or not tenant.origins:
        raise NotFound("this marketplace has no page to open")
    return RedirectResponse(
        f"{tenant.origins[0]}/#chat-conversation={found.conversation}",
        status_code=303,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
