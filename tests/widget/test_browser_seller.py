"""Seller tools in real headless Chromium: the quote-response form (with the
API's validation errors shown inline), quick actions as cards, and editing and
deleting your own messages from the keyboard, seen live by the other side."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import Browser, Page, expect

from tests.widget.conftest import WidgetServer, shot
from tests.widget.test_browser import DESKTOP, PHONE, XSS, Watch, box, open_side, say, texts


async def request_quote(server: WidgetServer) -> dict[str, Any]:
    """A quote for 40 chairs the buyer requested and the seller priced at 12.00."""
    demo = server.demo
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        created = await http.post(
            "/v1/quotes",
            headers={"Authorization": f"Bearer {demo.token('buyer')}"},
            json={
                "seller": {"user_id": demo.seller.user_id, "display_name": demo.seller.name},
                "currency": "USD",
                "lines": [{"line_id": "1", "sku": "CHAIR", "name": "Oak chair", "quantity": 40}],
                "title": "Quote: 40 oak chairs, freight to Denver",
            },
        )
        assert created.status_code == 201, created.text
        quote: dict[str, Any] = created.json()
        responded = await http.post(
            f"/v1/quotes/{quote['id']}/respond",
            headers={"Authorization": f"Bearer {demo.token('seller')}"},
            json={
                "prices": {"1": "12.00"},
                "valid_until": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
            },
        )
        assert responded.status_code == 200, responded.text
    return quote


async def test_seller_revises_the_offer_and_the_buyer_accepts_it(
    widget_server: WidgetServer, browser: Browser
) -> None:
    quote = await request_quote(widget_server)
    widget_server.app.state.widget_demo = widget_server.demo.with_quote(quote["id"])
    base = widget_server.base_url
    watch = Watch()
    seller_ctx, seller = await open_side(
        browser, f"{base}/demo/seller?subject=quote", PHONE, watch, is_mobile=True, has_touch=True
    )
    buyer_ctx, buyer = await open_side(
        browser, f"{base}/demo/buyer?subject=quote", DESKTOP, watch, color_scheme="dark"
    )
    tab = seller.get_by_role("link", name=f"Quote {quote['id']}")
    await expect(tab).to_have_attribute("aria-current", "page")
    await expect(buyer.locator(".cw-quote-offer")).to_contain_text("$480.00 (revision 1)")
    assert await buyer.get_by_role("button", name="Revise offer").count() == 0

    await seller.get_by_role("button", name="Revise offer").click()
    form = seller.get_by_role("dialog", name=f"Respond to quote {quote['id']}")
    price = form.get_by_role("textbox", name="Oak chair × 40")  # noqa: RUF001
    await expect(price).to_be_focused()
    await expect(price).to_have_value("12.00")
    await price.fill("11,5")
    await form.get_by_role("button", name="Send offer").click()
    # The API refuses the amount; the form says so next to the field.
    await expect(price).to_have_attribute("aria-invalid", "true")
    await expect(form.locator(".cw-field-error").first).to_contain_text(
        "Enter a price such as 12.50"
    )
    await expect(form.get_by_role("alert")).to_have_text("Please correct the marked field.")
    await expect(price).to_be_focused()
    await shot(seller, "11-phone-quote-form-error")

    await price.fill("11.00")
    until = form.get_by_label("Valid until")
    await until.fill("2020-01-01")
    await form.get_by_role("button", name="Send offer").click()
    await expect(until).to_have_attribute("aria-invalid", "true")
    await expect(form).to_contain_text("The date must be in the future")
    await expect(price).not_to_have_attribute("aria-invalid", "true")

    await until.fill((date.today() + timedelta(days=10)).isoformat())
    await form.get_by_label("Note to the buyer (optional)").fill("Freight included.")
    await expect(form.locator(".cw-total")).to_have_text("Total: $440.00")
    await shot(seller, "12-phone-quote-form")
    await form.get_by_role("button", name="Send offer").click()
    await expect(form).to_have_count(0)
    await expect(seller.locator(".cw-quote-offer")).to_contain_text("$440.00 (revision 2)")
    await expect(seller.get_by_role("button", name="Revise offer")).to_be_focused()

    # The buyer's card follows (a system message announces the revision).
    await expect(buyer.locator(".cw-quote-offer")).to_contain_text("$440.00 (revision 2)")
    await expect(texts(buyer, "revision 2")).to_have_count(1)
    await buyer.get_by_role("button", name="Accept offer").click()
    await expect(buyer.locator(".cw-card .cw-status")).to_have_text("accepted")
    await expect(seller.locator(".cw-card .cw-status")).to_have_text("accepted")
    await expect(seller.get_by_role("button", name="Revise offer")).to_have_count(0)
    await shot(buyer, "13-desktop-dark-quote-accepted-revision-2")
    stored = await widget_server.services.quotes.get(
        widget_server.demo.server_principal(), quote["id"]
    )
    assert (stored.status, stored.accepted_revision) == ("accepted", 2)
    assert stored.revisions[-1].prices == {"1": "11.00"}
    assert stored.revisions[-1].note == "Freight included."
    watch.assert_clean(await seller.evaluate("demoChat.token"))
    await seller_ctx.close()
    await buyer_ctx.close()


async def send_quick_action(seller: Page, choice: str, fields: dict[str, str]) -> None:
    await seller.get_by_role("button", name="Quick actions").click()
    dialog = seller.get_by_role("dialog", name="Quick action")
    await dialog.get_by_role("radio", name=choice).check()
    for label, value in fields.items():
        await dialog.get_by_label(label, exact=True).fill(value)
    await dialog.get_by_role("button", name="Send").click()
    await expect(dialog).to_have_count(0)


async def test_quick_actions_arrive_as_cards(widget_server: WidgetServer, browser: Browser) -> None:
    base = widget_server.base_url
    watch = Watch()
    seller_ctx, seller = await open_side(browser, f"{base}/demo/seller", DESKTOP, watch)
    buyer_ctx, buyer = await open_side(
        browser, f"{base}/demo/buyer", PHONE, watch, is_mobile=True, has_touch=True
    )
    assert await buyer.get_by_role("button", name="Quick actions").count() == 0

    await seller.get_by_role("button", name="Quick actions").click()
    dialog = seller.get_by_role("dialog", name="Quick action")
    await expect(dialog.get_by_role("radio", name="Propose a replacement item")).to_be_checked()
    await dialog.get_by_label("SKU").fill("not a sku!")
    await dialog.get_by_label("Item name").fill("Natural oak chair")
    await dialog.get_by_label("Note (optional)").fill(XSS)
    await dialog.get_by_role("button", name="Send").click()
    sku = dialog.get_by_label("SKU")
    await expect(sku).to_have_attribute("aria-invalid", "true")
    await expect(sku).to_be_focused()
    await expect(dialog.locator(".cw-field-error").first).to_contain_text("Use up to 64 letters")
    await shot(seller, "14-desktop-quick-action-error")
    await sku.fill("CHAIR-OAK-NAT")
    await dialog.get_by_role("button", name="Send").click()
    await expect(dialog).to_have_count(0)

    card = buyer.get_by_role("group", name="Replacement proposed")
    await expect(card).to_have_count(1)
    await expect(card.locator("dd")).to_have_text(["Natural oak chair", "CHAIR-OAK-NAT", XSS])
    await expect(seller.get_by_role("group", name="Replacement proposed")).to_have_count(1)

    day = (date.today() + timedelta(days=3)).isoformat()
    await send_quick_action(seller, "Confirm the delivery date", {"Delivery date": day})
    await send_quick_action(seller, "Ask for a photo", {"Note (optional)": "Of the scratch."})
    await expect(buyer.get_by_role("group", name="Delivery date confirmed")).to_have_count(1)
    photo = buyer.get_by_role("group", name="Photo requested")
    await expect(photo).to_contain_text("Of the scratch.")
    await expect(photo.get_by_role("button", name="Send a photo")).to_be_visible()
    assert await seller.get_by_role("button", name="Send a photo").count() == 0
    assert await buyer.locator(".cw-list img").count() == 0
    await shot(buyer, "15-phone-quick-action-cards")
    await shot(seller, "16-desktop-quick-action-cards")

    # The phone layout of the quick-action sheet.
    await seller.set_viewport_size(PHONE)
    await seller.get_by_role("button", name="Quick actions").click()
    await seller.get_by_role("dialog", name="Quick action").get_by_label("SKU").fill("LEG-OAK")
    await shot(seller, "17-phone-quick-action-form")
    await seller.keyboard.press("Escape")
    await expect(seller.get_by_role("dialog")).to_have_count(0)
    await expect(box(seller)).to_be_focused()

    page = await widget_server.services.conversations.history(
        widget_server.demo.server_principal(), widget_server.demo.conversation_id, after_seq=0
    )
    kinds = [(m.kind, m.action.action if m.action else None) for m in page.messages]
    assert kinds == [
        ("action", "propose_replacement"),
        ("action", "confirm_delivery_date"),
        ("action", "request_photo"),
    ]
    watch.assert_clean(await seller.evaluate("demoChat.token"))
    await seller_ctx.close()
    await buyer_ctx.close()


async def test_edit_and_delete_own_messages_with_the_keyboard(
    widget_server: WidgetServer, browser: Browser
) -> None:
    base = widget_server.base_url
    watch = Watch()
    buyer_ctx, buyer = await open_side(
        browser, f"{base}/demo/buyer", PHONE, watch, is_mobile=True, has_touch=True
    )
    seller_ctx, seller = await open_side(browser, f"{base}/demo/seller", DESKTOP, watch)
    await say(buyer, "The chair is blue.")
    await say(seller, "Which chair?")
    await expect(texts(seller, "The chair is blue.")).to_have_count(1)
    await expect(texts(buyer, "Which chair?")).to_have_count(1)
    # Only your own messages have options.
    theirs = buyer.locator(".cw-theirs")
    assert await theirs.get_by_role("button", name="Options for your message").count() == 0

    mine = buyer.locator(".cw-mine", has_text="The chair is blue.")
    options = mine.get_by_role("button", name="Options for your message")
    await options.focus()
    await buyer.keyboard.press("Enter")
    await expect(options).to_have_attribute("aria-expanded", "true")
    await expect(mine.get_by_role("button", name="Edit")).to_be_focused()
    await buyer.keyboard.press("Enter")
    editor = buyer.get_by_role("textbox", name="Edit message")
    await expect(editor).to_be_focused()
    await expect(editor).to_have_value("The chair is blue.")
    await shot(buyer, "18-phone-editing")
    await editor.fill("The chair is red, not blue.")
    await buyer.keyboard.press("Enter")
    await expect(texts(buyer, "The chair is red, not blue.")).to_have_count(1)
    edited = seller.locator(".cw-theirs", has_text="The chair is red, not blue.")
    await expect(edited).to_contain_text("edited")
    await expect(texts(seller, "The chair is blue.")).to_have_count(0)
    options = buyer.locator(".cw-mine", has_text="red, not blue").get_by_role(
        "button", name="Options for your message"
    )
    await expect(options).to_be_focused()

    await buyer.keyboard.press("Enter")
    await buyer.keyboard.press("Tab")
    await expect(buyer.get_by_role("button", name="Delete", exact=True)).to_be_focused()
    await buyer.keyboard.press("Enter")
    await expect(buyer.get_by_role("button", name="Delete message")).to_be_focused()
    await buyer.keyboard.press("Enter")
    tombstone = re.compile(r"^This message was deleted\.$")
    await expect(buyer.locator(".cw-mine .cw-text").first).to_have_text(tombstone)
    await expect(seller.locator(".cw-theirs .cw-text").first).to_have_text(tombstone)
    await expect(box(buyer)).to_be_focused()
    await shot(seller, "19-desktop-edited-then-deleted")
    page = await widget_server.services.conversations.history(
        widget_server.demo.server_principal(), widget_server.demo.conversation_id, after_seq=0
    )
    first = page.messages[0]
    assert (first.kind, first.deleted, first.text) == ("text", True, None)
    assert [m.kind for m in page.messages] == ["text", "text", "edit", "delete"]
    watch.assert_clean(await buyer.evaluate("demoChat.token"))
    await buyer_ctx.close()
    await seller_ctx.close()
