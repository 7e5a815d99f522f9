"""Development-only demo marketplace pages: ``/demo``, ``/demo/buyer``, ``/demo/seller``.

Each role's page shows the order conversation, or with ``?subject=quote`` the
demo quote's conversation (tabs switch between the two).

Each page embeds the widget the way a marketplace would: the host page gets a
token minted server-side (here, from the dev tenant's signing secret) and hands
it to ``ChatWidget.mount`` in JavaScript, never in a URL. The pages carry the
strict Content-Security-Policy that docs/widget.md asks of host pages, so the
demo proves the widget works under it.

The router is only reachable after ``install_demo(app, settings, config)``,
which refuses production settings; ``chat-service dev`` builds the config from
``.chat-data/dev-tenant.json``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import HTMLResponse, JSONResponse

from chat_service.auth.principals import ServerPrincipal
from chat_service.auth.tokens import mint_user_token
from chat_service.config import Settings
from chat_service.errors import NotFound
from chat_service.quotes.service import QuoteService

__all__ = ["DemoConfig", "DemoUser", "install_demo", "router"]

DemoRole = Literal["buyer", "seller"]
TOKEN_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class DemoUser:
    user_id: str
    name: str


@dataclass(frozen=True)
class DemoConfig:
    """What the demo pages need to mint tokens for the dev tenant's two users."""

    tenant_id: str
    signing_secret: str = field(repr=False)
    conversation_id: str
    audience: str = "marketplace-chat"
    # The demo quote (its conversation is looked up when the page is served).
    quote_id: str | None = None
    buyer: DemoUser = DemoUser("buyer-ada", "Ada Buyer")
    seller: DemoUser = DemoUser("seller-sam", "Sam Seller")

    @classmethod
    def from_dev_state(
        cls, path: Path, settings: Settings, *, quote_id: str | None = None
    ) -> DemoConfig:
        """Read ``dev-tenant.json`` as written by ``chat-service dev``."""
        state = json.loads(path.read_text())
        return cls(
            tenant_id=state["tenant_id"],
            signing_secret=state["signing_secret"],
            conversation_id=state["conversation_id"],
            audience=settings.jwt_audience,
            quote_id=quote_id,
        )

    def with_conversation(self, conversation_id: str) -> DemoConfig:
        return replace(self, conversation_id=conversation_id)

    def with_quote(self, quote_id: str) -> DemoConfig:
        return replace(self, quote_id=quote_id)

    def server_principal(self) -> ServerPrincipal:
        return ServerPrincipal(tenant=self.tenant_id)

    def user(self, role: DemoRole) -> DemoUser:
        return self.buyer if role == "buyer" else self.seller

    def token(self, role: DemoRole) -> str:
        user = self.user(role)
        return mint_user_token(
            tenant_id=self.tenant_id,
            signing_secret=self.signing_secret,
            audience=self.audience,
            user_id=user.user_id,
            name=user.name,
            role=role,
            lifetime=TOKEN_LIFETIME,
        )


router = APIRouter(tags=["demo"], include_in_schema=False)


def install_demo(app: FastAPI, settings: Settings, config: DemoConfig) -> None:
    """Serve the demo pages on ``app``; development and test settings only."""
    if settings.environment == "production":
        raise RuntimeError("the widget demo pages are for development only")
    app.state.widget_demo = config
    app.include_router(router)


def _config(request: Request) -> DemoConfig:
    config: DemoConfig | None = getattr(request.app.state, "widget_demo", None)
    if config is None:
        raise NotFound("no demo configured")
    return config


def _role(role: str) -> DemoRole:
    if role == "buyer":
        return "buyer"
    if role == "seller":
        return "seller"
    raise NotFound("no such demo page")


def content_security_policy(request: Request) -> str:
    origin = f"{request.url.scheme}://{request.url.netloc}"
    ws_origin = origin.replace("http", "ws", 1)
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"connect-src 'self' {ws_origin}; img-src 'self' blob: data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _page(request: Request, title: str, body: str) -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="/widget/widget.css">
<link rel="stylesheet" href="/widget/demo.css">
</head>
<body>
{body}
</body>
</html>"""
    return HTMLResponse(
        document,
        headers={
            "Content-Security-Policy": content_security_policy(request),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get("/demo")
async def demo_index(request: Request) -> HTMLResponse:
    config = _config(request)
    quote = ""
    if config.quote_id is not None:
        name = html.escape(config.quote_id)
        quote = f"""
<li><a href="/demo/buyer?subject=quote">Buyer: Ada, on quote {name}</a></li>
<li><a href="/demo/seller?subject=quote">Seller: Sam, answering quote {name}</a></li>"""
    body = f"""<main class="demo">
<h1>Demo marketplace</h1>
<p>Open the buyer and the seller side by side (two windows, or a phone and a laptop).</p>
<ul>
<li><a href="/demo/buyer">Buyer: Ada, on her order page</a></li>
<li><a href="/demo/seller">Seller: Sam, in the seller dashboard</a></li>{quote}
</ul>
</main>"""
    return _page(request, "Demo marketplace", body)


async def _conversation_of(request: Request, config: DemoConfig, subject: str) -> str:
    if subject == "order":
        return config.conversation_id
    if subject != "quote" or config.quote_id is None:
        raise NotFound("no such demo conversation")
    quotes: QuoteService = request.app.state.services.quotes
    quote = await quotes.get(config.server_principal(), config.quote_id)
    return quote.conversation_id


def _tabs(config: DemoConfig, who: DemoRole, subject: str) -> str:
    """Links between the order and the quote conversation (when there is a quote)."""
    if config.quote_id is None:
        return ""
    links = []
    for key, label, query in (
        ("order", "Order", ""),
        ("quote", f"Quote {config.quote_id}", "?subject=quote"),
    ):
        current = ' aria-current="page"' if key == subject else ""
        links.append(f'<a href="/demo/{who}{query}"{current}>{html.escape(label)}</a>')
    return f'<nav class="demo-tabs" aria-label="Conversations">{"".join(links)}</nav>'


@router.get("/demo/{role}")
async def demo_page(role: str, request: Request, subject: str = "order") -> HTMLResponse:
    config = _config(request)
    who = _role(role)
    conversation_id = await _conversation_of(request, config, subject)
    base = f"{request.url.scheme}://{request.url.netloc}"
    mount = {
        "baseUrl": base,
        "tenantId": config.tenant_id,
        "conversationId": conversation_id,
        "token": config.token(who),
        "tokenUrl": f"/demo/{who}/token",
    }
    # JSON in a non-executed script element; "<" escaped so it cannot close the tag.
    data = json.dumps(mount).replace("<", "\\u003c").replace(">", "\\u003e")
    data = data.replace("&", "\\u0026")
    user = config.user(who)
    if subject == "quote":
        heading = "Your quote request" if who == "buyer" else "Seller dashboard: quote"
    else:
        heading = "Your order" if who == "buyer" else "Seller dashboard"
    body = f"""<header class="demo-bar"><strong>Demo marketplace</strong>
<span>{html.escape(heading)} · signed in as {html.escape(user.name)}</span></header>
<main class="demo demo-{who}">
{_tabs(config, who, subject)}
<div id="chat" class="demo-chat"></div>
</main>
<script type="application/json" id="chat-config">{data}</script>
<script src="/widget/widget.js"></script>
<script src="/widget/widget-extras.js"></script>
<script src="/widget/widget-seller.js"></script>
<script src="/widget/demo.js"></script>"""
    return _page(request, f"Demo: {heading}", body)


@router.post("/demo/{role}/token")
async def demo_token(role: str, request: Request) -> JSONResponse:
    """A fresh token for the demo page (what a marketplace backend would do)."""
    config = _config(request)
    return JSONResponse({"token": config.token(_role(role))}, headers={"Cache-Control": "no-store"})
