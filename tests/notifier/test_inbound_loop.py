"""The whole loop: away email with a Reply-To from this half, the reply posted."""

from __future__ import annotations

import asyncio

from chat_service.services import Services
from notifier.wiring import build_notifier
from tests.notifier.conftest import Chat, advance, notifier_settings, run_due
from tests.notifier.inbound_corpus import REPLY
from tests.notifier.inbound_kit import REPLY_DOMAIN, reply_email, running_inbound
from tests.notifier.smtp_sink import Sink


async def test_replying_to_the_away_email_posts_into_the_chat(
    services: Services, chat: Chat, sink: Sink
) -> None:
    async with running_inbound(services) as inbound:
        notifier = build_notifier(
            services, notifier_settings(sink), reply_address=inbound.addresses
        )
        await chat.send("buyer-1", "buyer", "Can you do 40 units at $12?")
        advance(services, 121)
        await run_due(notifier)
        [email] = sink.messages()
        reply_to = str(email["Reply-To"])
        assert reply_to.startswith("reply+")
        assert reply_to.endswith("@" + REPLY_DOMAIN)
        body = f"{REPLY}\n\nOn Wed, Nov 25, 2026 at 2:00 PM Shop wrote:\n> Can you do 40 units?\n"
        reply = reply_email(body, headers={"In-Reply-To": str(email["Message-ID"])})
        code, _ = await inbound.deliver(reply, reply_to)
        assert code == 250
    page = await services.conversations.history(chat.tenant.server, chat.conv_id)
    assert [(m.sender_id, m.text) for m in page.messages][-1] == ("seller-1", REPLY)


async def test_concurrent_deliveries_of_one_email_post_once(services: Services, chat: Chat) -> None:
    async with running_inbound(services) as inbound:
        to = await inbound.address(chat.tenant.id, chat.conv_id)
        raw = reply_email(REPLY).as_bytes()
        outcomes = await asyncio.gather(*(inbound.replies.handle(raw, to) for _ in range(5)))
    assert {o.status for o in outcomes} <= {"posted", "duplicate"}
    assert len({o.seq for o in outcomes}) == 1
    page = await services.conversations.history(chat.tenant.server, chat.conv_id)
    assert [(m.sender_id, m.text) for m in page.messages] == [("seller-1", REPLY)]
    assert await services.stores.db["processed_inbound"].count_documents({}) == 1
