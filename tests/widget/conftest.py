"""A live server with the widget and demo routers, a tenant whose allowed origin is
that server's own, and a browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Page

from chat_service.api.app import create_app
from chat_service.cli.server import uvicorn_config
from chat_service.config import Settings
from chat_service.conversations.schemas import ConversationCreate, ParticipantIn
from chat_service.embedded.servers import free_port
from chat_service.services import Services
from chat_service.tenants.schemas import TenantCreate
from chat_service.widget.demo import DemoConfig
from chat_service.widget.demo import router as demo_router
from tests.fixtures.app import serve_config
from tests.fixtures.browser import screenshot


@dataclass
class WidgetServer:
    base_url: str
    app: FastAPI
    services: Services
    demo: DemoConfig
    server_key: str


async def _start(app: FastAPI, settings: Settings) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    config = uvicorn_config(settings, log_level="warning")
    config.app = app
    config.loop = "asyncio"
    return await serve_config(config)


@pytest.fixture
async def widget_server(settings: Settings) -> AsyncIterator[WidgetServer]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(
        update={"port": port, "host": "127.0.0.1", "public_base_url": base}
    )
    app = create_app(settings)  # serves the widget's files
    app.include_router(demo_router)  # what install_demo does; its config comes below
    server, task = await _start(app, settings)
    services: Services = app.state.services
    creds = await services.tenants.create(TenantCreate(name="Chairs & Co", origins=[base]))
    demo = DemoConfig(
        tenant_id=creds.tenant_id,
        signing_secret=creds.signing_secret,
        conversation_id="",
        audience=settings.jwt_audience,
    )
    conversation, _ = await services.conversations.open_conversation(
        demo.server_principal(),
        ConversationCreate(
            subject_type="order",
            subject_id="1042",
            title="Order #1042: 2 blue oak chairs",
            participants=[
                ParticipantIn(user_id=demo.buyer.user_id, role="buyer", display_name="Ada Buyer"),
                ParticipantIn(
                    user_id=demo.seller.user_id, role="seller", display_name="Sam Seller"
                ),
            ],
        ),
    )
    demo = demo.with_conversation(conversation.id)
    app.state.widget_demo = demo
    yield WidgetServer(base, app, services, demo, creds.server_key)
    server.should_exit = True
    await asyncio.wait_for(task, timeout=15)


async def shot(page: Page, name: str) -> None:
    await screenshot(page, f"widget-{name}")
