"""Photos and quotes in the widget, in real headless Chromium: the buyer (phone)
attaches a generated photo and the seller (desktop) sees its thumbnail; the
buyer accepts the seller's offer from the context card and both cards follow."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from PIL import Image
from playwright.async_api import Browser, expect

from chat_service.auth.principals import Role
from chat_service.widget.demo import DemoConfig
from tests.widget.conftest import WidgetServer, shot
from tests.widget.test_browser import DESKTOP, PHONE, Watch, open_side


def token(demo: DemoConfig, role: Role) -> str:
    return demo.token("buyer" if role == "buyer" else "seller")


async def open_quote(server: WidgetServer) -> str:
    demo = server.demo
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=10) as http,
    ):
        response = await http.post(
            "/v1/quotes",
            headers={"Authorization": f"Bearer {token(demo, 'buyer')}"},
            json={
                "seller": {"user_id": demo.seller.user_id, "display_name": demo.seller.name},
                "currency": "USD",
                "lines": [{"line_id": "1", "sku": "CHAIR", "name": "Oak chair", "quantity": 40}],
                "title": "Quote: 40 oak chairs, freight to Denver",
            },
        )
        assert response.status_code == 201, response.text
        quote = response.json()
        valid_until = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        response = await http.post(
            f"/v1/quotes/{quote['id']}/respond",
            headers={"Authorization": f"Bearer {token(demo, 'seller')}"},
            json={"prices": {"1": "12.00"}, "valid_until": valid_until},
        )
        assert response.status_code == 200, response.text
    conversation_id: str = quote["conversation_id"]
    return conversation_id


def photo(path: Path) -> Path:
    image = Image.new("RGB", (800, 600), (30, 90, 200))
    for x in range(0, 800, 40):
        for y in range(0, 600):
            image.putpixel((x, y), (250, 200, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    path.write_bytes(buffer.getvalue())
    return path


async def test_photo_thumbnail_and_quote_acceptance(
    widget_server: WidgetServer, browser: Browser, tmp_path: Path
) -> None:
    conversation_id = await open_quote(widget_server)
    widget_server.app.state.widget_demo = widget_server.demo.with_conversation(conversation_id)
    base = widget_server.base_url
    watch = Watch()
    buyer_ctx, buyer = await open_side(
        browser, f"{base}/demo/buyer", PHONE, watch, is_mobile=True, has_touch=True
    )
    seller_ctx, seller = await open_side(
        browser, f"{base}/demo/seller", DESKTOP, watch, color_scheme="dark"
    )

    card = buyer.locator(".cw-card")
    await expect(card).to_contain_text("responded")
    await expect(card.locator(".cw-quote-offer")).to_contain_text("$480.00")
    await expect(seller.locator(".cw-card")).to_contain_text("responded")
    assert await seller.get_by_role("button", name="Accept offer").count() == 0

    await buyer.locator(".cw input[type=file]").set_input_files(str(photo(tmp_path / "c.jpg")))
    thumb = seller.locator(".cw-theirs img.cw-thumb")
    await expect(thumb).to_have_count(1)
    await expect(thumb).to_have_attribute(
        "src", re.compile(rf"^{base}/v1/attachments/a_\w+/thumb\?")
    )
    await expect(buyer.locator(".cw-mine img.cw-thumb")).to_have_count(1)
    await expect(buyer.locator(".cw-mine").last).to_have_attribute("data-seq", "3")
    loaded = await thumb.evaluate("img => img.complete && img.naturalWidth")
    assert 0 < loaded <= 320

    await shot(buyer, "5-phone-photo-and-offer")
    await buyer.get_by_role("button", name="Accept offer").click()
    await expect(card).to_contain_text("accepted")
    await expect(seller.locator(".cw-card")).to_contain_text("accepted")
    await expect(buyer.get_by_role("button", name="Accept offer")).to_have_count(0)
    await shot(buyer, "6-phone-quote-accepted")
    await shot(seller, "7-desktop-dark-quote-accepted")

    await seller.get_by_role("button", name="Open photo from ada buyer").click()
    viewer = seller.get_by_role("dialog")
    await expect(viewer.locator("img")).to_be_visible()
    await shot(seller, "8-desktop-dark-photo-viewer")
    await seller.keyboard.press("Escape")
    await expect(viewer).to_have_count(0)
    watch.assert_clean(await buyer.evaluate("demoChat.token"))
    await buyer_ctx.close()
    await seller_ctx.close()


async def test_order_card_follows_status_changes_live(
    widget_server: WidgetServer, browser: Browser
) -> None:
    demo = widget_server.demo
    order = {
        "order_id": "2077",
        "currency": "USD",
        "buyer": {"user_id": demo.buyer.user_id, "display_name": demo.buyer.name},
        "seller": {"user_id": demo.seller.user_id, "display_name": demo.seller.name},
        "lines": [
            {"sku": "CHAIR-BLUE", "name": "Blue chair", "quantity": 2, "unit_price": "100.00"}
        ],
    }
    async with httpx.AsyncClient(base_url=widget_server.base_url, timeout=10) as http:
        backend = {"Authorization": f"Bearer {widget_server.server_key}"}
        created = await http.post("/v1/orders", json=order, headers=backend)
        assert created.status_code == 201, created.text
        widget_server.app.state.widget_demo = demo.with_conversation(
            created.json()["conversation_id"]
        )
        watch = Watch()
        context, buyer = await open_side(
            browser, f"{widget_server.base_url}/demo/buyer", PHONE, watch
        )
        card = buyer.get_by_label("Order summary")
        await expect(card).to_contain_text("Order #2077")
        await expect(card).to_contain_text("2 item(s) · $200.00")
        moved = await http.post(
            "/v1/orders/2077/status",
            json={"status": "processing", "note": "packing"},
            headers={"Authorization": f"Bearer {demo.token('seller')}"},
        )
        assert moved.status_code == 200, moved.text
    await expect(card.locator(".cw-status")).to_have_text("processing")
    await expect(buyer.locator(".cw-system").last).to_be_visible()
    await shot(buyer, "9-phone-order-card")
    watch.assert_clean(await buyer.evaluate("demoChat.token"))
    await context.close()
