"""The widget in real headless Chromium: a buyer on a phone and a seller on a
desktop chat through the demo pages (served under the strict host-page CSP).
Screenshots go to ``tests/artifacts/widget-*.png``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.widget.conftest import WidgetServer, shot

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
XSS = "<img src=x onerror=alert(1)>"


@dataclass
class Watch:
    """What the pages did that they must not: dialogs (alert) and every URL used."""

    dialogs: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def assert_clean(self, *tokens: str) -> None:
        assert self.dialogs == []
        assert any("/v1/ws?tenant=" in url for url in self.urls)
        for token in tokens:
            assert not any(token in url for url in self.urls)


async def open_side(
    browser: Browser, url: str, viewport: dict[str, int], watch: Watch, **extra: object
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=viewport, **extra)  # type: ignore[arg-type]
    context.on("request", lambda request: watch.urls.append(request.url))
    page = await context.new_page()
    page.on("dialog", lambda dialog: watch.dialogs.append(dialog.message))
    page.on("websocket", lambda ws: watch.urls.append(ws.url))
    await page.goto(url)
    await expect(page.locator(".cw")).to_have_attribute("data-status", "online")
    return context, page


def texts(page: Page, text: str) -> Locator:
    return page.locator(".cw-msg .cw-text", has_text=text)


def box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message")


async def say(page: Page, text: str) -> None:
    await box(page).fill(text)
    await page.get_by_role("button", name="Send").click()


async def test_buyer_and_seller_chat_both_ways_and_survive_offline(
    widget_server: WidgetServer, browser: Browser
) -> None:
    base = widget_server.base_url
    watch = Watch()
    buyer_ctx, buyer = await open_side(
        browser, f"{base}/demo/buyer", PHONE, watch, is_mobile=True, has_touch=True
    )
    seller_ctx, seller = await open_side(browser, f"{base}/demo/seller", DESKTOP, watch)
    await expect(buyer.locator(".cw-title")).to_have_text("Order #1042: 2 blue oak chairs")
    await expect(buyer.locator(".cw-peer")).to_have_attribute("data-presence", "online")
    await expect(seller.locator(".cw-peer")).to_have_attribute("data-presence", "online")

    # Buyer -> seller, with the typing indicator on the way.
    await box(buyer).press_sequentially("The blue chair", delay=20)
    await expect(seller.locator(".cw-typing")).to_have_text("Ada Buyer is typing…")
    await box(buyer).fill("The blue chair arrived in the wrong colour.")
    await box(buyer).press("Enter")
    await expect(texts(seller, "wrong colour")).to_have_count(1)
    await expect(seller.locator(".cw-typing")).to_have_text("")
    await expect(seller.locator(".cw-theirs .cw-who").first).to_have_text("Ada Buyer")

    # Seller -> buyer; the seller sees the buyer's read receipt.
    await say(seller, "Sorry! A replacement ships Monday.")
    await expect(texts(buyer, "replacement ships Monday")).to_have_count(1)
    mine = seller.locator(".cw-mine").last
    await expect(mine).to_have_attribute("data-state", "seen")
    await expect(mine.locator(".cw-state")).to_have_text("Seen")

    # The XSS probe is shown as text on both sides and never runs.
    await say(seller, XSS)
    await expect(buyer.locator(".cw-msg .cw-text").last).to_have_text(XSS)
    await expect(seller.locator(".cw-msg .cw-text").last).to_have_text(XSS)
    assert await buyer.locator(".cw-list img").count() == 0
    assert await seller.locator(".cw-list img").count() == 0
    await shot(buyer, "1-phone-buyer")
    await shot(seller, "2-desktop-seller")

    # The buyer's network drops; both sides keep writing.
    await buyer_ctx.set_offline(True)
    await expect(buyer.locator(".cw")).to_have_attribute("data-status", "offline")
    await expect(buyer.get_by_role("status")).to_contain_text("You are offline")
    await expect(seller.locator(".cw-peer")).to_have_attribute("data-presence", "away")
    await say(seller, "Tracking number follows.")
    await say(seller, "It is in the van.")
    await say(buyer, "Thanks, written while offline.")
    await expect(buyer.locator(".cw-mine").last).to_have_attribute("data-state", "pending")
    await shot(buyer, "3-phone-offline")

    await buyer_ctx.set_offline(False)
    await expect(buyer.locator(".cw")).to_have_attribute("data-status", "online")
    for text in ("Tracking number follows.", "It is in the van."):
        await expect(texts(buyer, text)).to_have_count(1)
    await expect(texts(seller, "written while offline")).to_have_count(1)
    await expect(buyer.locator(".cw-mine").last).not_to_have_attribute("data-state", "pending")
    await expect(seller.locator(".cw-peer")).to_have_attribute("data-presence", "online")
    await shot(buyer, "4-phone-back-online")

    # Every side shows every message once, in seq order; the store holds each once.
    page = await widget_server.services.conversations.history(
        widget_server.demo.server_principal(),
        widget_server.demo.conversation_id,
        after_seq=0,
        limit=50,
    )
    stored = [m.text for m in page.messages]
    assert len(stored) == len(set(stored)) == 6
    for side in (buyer, seller):
        shown = await side.locator(".cw-msg .cw-text").all_text_contents()
        assert shown == stored
        seqs = [
            int(s)
            for s in await side.locator(".cw-msg").evaluate_all(
                "nodes => nodes.map(n => n.dataset.seq)"
            )
        ]
        assert seqs == sorted(seqs) == list(range(1, 7))
    tokens = await buyer.evaluate("demoChat.token"), await seller.evaluate("demoChat.token")
    watch.assert_clean(*tokens)
    await buyer_ctx.close()
    await seller_ctx.close()


async def test_a_send_whose_ack_is_lost_is_resent_and_stored_once(
    widget_server: WidgetServer, browser: Browser
) -> None:
    watch = Watch()
    context, page = await open_side(browser, f"{widget_server.base_url}/demo/buyer", PHONE, watch)
    # Queue a message and drop the socket at once: the frame may or may not have
    # been stored; the widget reconnects with backoff, resends the same
    # client_msg_id, and the server answers a duplicate with the original.
    client_msg_id = await page.evaluate(
        """() => {
            const id = demoChat.queue({text: "sent as the line dropped"});
            demoChat.ws.close();
            return id;
        }"""
    )
    await expect(page.locator(".cw")).to_have_attribute("data-status", "reconnecting")
    await expect(page.locator(".cw")).to_have_attribute("data-status", "online")
    mine = page.locator(".cw-mine")
    await expect(mine).to_have_count(1)
    await expect(mine).to_have_attribute("data-seq", "1")
    await expect(mine).to_have_attribute("data-client-msg-id", client_msg_id)
    history = await widget_server.services.conversations.history(
        widget_server.demo.server_principal(), widget_server.demo.conversation_id, after_seq=0
    )
    assert [m.client_msg_id for m in history.messages] == [client_msg_id]
    # A reload reads history over REST and subscribes after it: still once.
    await page.reload()
    await expect(page.locator(".cw")).to_have_attribute("data-status", "online")
    await expect(page.locator(".cw-mine")).to_have_count(1)
    await expect(page.locator(".cw-mine")).to_have_attribute("data-state", "sent")

    # A refused token stops the widget with a message instead of retrying forever.
    await page.evaluate(
        """() => {
            const el = document.createElement("div");
            el.id = "refused";
            document.body.append(el);
            ChatWidget.mount(el, {baseUrl: location.origin, tenantId: demoChat.tenantId,
                                  conversationId: demoChat.cid, token: "e30.e30.forged"});
        }"""
    )
    refused = page.locator("#refused .cw")
    await expect(refused).to_have_attribute("data-status", "failed")
    await expect(refused.get_by_role("status")).to_have_text(
        "Your session has ended. Reload the page to continue."
    )
    await expect(refused.get_by_role("button", name="Send")).to_be_disabled()
    watch.assert_clean(await page.evaluate("demoChat.token"))
    await context.close()


async def buyer_read_mark(server: WidgetServer) -> int:
    conversation = await server.services.conversations.get_conversation(
        server.demo.server_principal(), server.demo.conversation_id
    )
    return next(p.last_read_seq for p in conversation.participants if p.role == "buyer")


async def test_long_history_loads_in_pages(widget_server: WidgetServer, browser: Browser) -> None:
    demo = widget_server.demo
    for n in range(1, 61):
        await widget_server.services.conversations.send(
            demo.server_principal(),
            demo.conversation_id,
            client_msg_id=f"seed-{n}",
            text=f"message {n}",
            as_user=demo.seller.user_id,
        )
    watch = Watch()
    context, page = await open_side(browser, f"{widget_server.base_url}/demo/buyer", PHONE, watch)
    messages = page.locator(".cw-msg")
    await expect(messages).to_have_count(50)
    await expect(messages.first).to_have_attribute("data-seq", "11")
    await page.get_by_role("button", name="Load earlier messages").click()
    await expect(messages).to_have_count(60)
    await expect(messages.first).to_have_attribute("data-seq", "1")
    await expect(page.get_by_role("button", name="Load earlier messages")).to_have_count(0)
    seqs = await messages.evaluate_all("nodes => nodes.map(n => Number(n.dataset.seq))")
    assert seqs == list(range(1, 61))

    # Reading older messages, a new one shows a "New messages" button instead of jumping.
    await page.locator(".cw-list").evaluate("list => { list.scrollTop = 0; }")
    await widget_server.services.conversations.send(
        demo.server_principal(),
        demo.conversation_id,
        client_msg_id="late",
        text="a late one",
        as_user=demo.seller.user_id,
    )
    await expect(messages).to_have_count(61)
    new = page.get_by_role("button", name="New messages")
    await expect(new).to_be_visible()
    await shot(page, "10-phone-new-messages")
    assert await buyer_read_mark(widget_server) == 60  # not seen yet: not marked read
    await new.click()
    await expect(new).to_be_hidden()
    await expect(messages.last).to_be_in_viewport()
    for _ in range(100):
        if await buyer_read_mark(widget_server) == 61:
            break
        await asyncio.sleep(0.05)
    assert await buyer_read_mark(widget_server) == 61
    await context.close()
