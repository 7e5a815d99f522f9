"""axe-core (shipped by axe-playwright-python, no CDN) on the buyer's and the
seller's widget, light and dark, phone and desktop, with every kind of content
on screen: the quote card with its actions, text, system messages, quick-action
cards, and the seller's open forms. Serious and critical violations fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from chat_service.auth.principals import UserPrincipal
from tests.widget.conftest import WidgetServer
from tests.widget.test_browser import DESKTOP, PHONE, Watch, open_side
from tests.widget.test_browser_seller import request_quote

BLOCKING = {"serious", "critical"}


def blocking(results: dict[str, Any]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
        for v in results["violations"]
        if v["impact"] in BLOCKING
    ]


async def audit(page: Page, where: str) -> list[str]:
    results = await Axe().run(page)
    return [f"{where}: {problem}" for problem in blocking(results.response)]


@pytest.mark.timeout(240)
async def test_widget_has_no_serious_accessibility_violations(
    widget_server: WidgetServer, browser: Browser
) -> None:
    quote = await request_quote(widget_server)
    demo = widget_server.demo.with_quote(quote["id"])
    widget_server.app.state.widget_demo = demo
    conversation_id = quote["conversation_id"]
    seller = demo.seller.user_id
    conversations = widget_server.services.conversations
    await conversations.send(
        demo.server_principal(),
        conversation_id,
        client_msg_id="hello",
        text="Hello, can you do freight to Denver?",
        as_user=demo.buyer.user_id,
    )
    await conversations.send(
        demo.server_principal(),
        conversation_id,
        client_msg_id="reply",
        text="Yes, included in the offer.",
        as_user=seller,
    )
    await conversations.actions.send(
        UserPrincipal(
            tenant=demo.tenant_id,
            user_id=seller,
            name=demo.seller.name,
            role="seller",
            expires_at=datetime.now(UTC) + timedelta(minutes=5),
        ),
        conversation_id,
        client_msg_id="when",
        action={"action": "confirm_delivery_date", "date": "2026-12-01", "note": "Before noon."},
    )
    problems: list[str] = []
    base = widget_server.base_url
    for role, url in (
        ("buyer", f"{base}/demo/buyer?subject=quote"),
        ("seller", f"{base}/demo/seller?subject=quote"),
    ):
        for scheme in ("light", "dark"):
            for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                context, page = await open_side(
                    browser, url, viewport, Watch(), color_scheme=scheme
                )
                where = f"{role} {scheme} {name}"
                await expect(page.locator(".cw-card")).to_contain_text("responded")
                await expect(page.locator(".cw-msg")).to_have_count(5)
                problems += await audit(page, where)
                if role == "seller":
                    await page.get_by_role("button", name="Revise offer").click()
                    await expect(page.get_by_role("dialog")).to_be_visible()
                    problems += await audit(page, where + " quote form")
                    await page.keyboard.press("Escape")
                    await page.get_by_role("button", name="Quick actions").click()
                    await expect(page.get_by_role("dialog")).to_be_visible()
                    problems += await audit(page, where + " quick actions")
                    await page.keyboard.press("Escape")
                await context.close()
    assert problems == [], "\n".join(problems)
