"""Explicit limits: messages per minute per user, connections per user,
subscriptions per connection, and token expiry closing open sockets. Time
moves only on a ManualClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chat_service.auth.tokens import mint_user_token
from chat_service.clock import ManualClock
from tests.hub.helpers import (
    BUYER,
    SELLER,
    Hub,
    StartHub,
    assert_alive,
    close_of,
    edit_frame,
    error_of,
    refused_with,
    send_text,
    subscribe,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


def token_at(hub: Hub, clock: ManualClock, user_id: str, lifetime: timedelta) -> str:
    """A token issued at the manual clock's now."""
    return mint_user_token(
        tenant_id=hub.tenant.id,
        signing_secret=hub.tenant.creds.signing_secret,
        audience=hub.tenant.settings.jwt_audience,
        user_id=user_id,
        name=user_id.title(),
        role="seller" if user_id.startswith("seller") else "buyer",
        lifetime=lifetime,
        now=clock.now(),
    )


async def test_send_rate_per_user_and_window(start_hub: StartHub) -> None:
    clock = ManualClock(datetime.now(UTC))
    hub = await start_hub(clock=clock, send_rate_per_minute=3)
    conv = await hub.conversation()
    buyer, phone = await hub.connect(BUYER), await hub.connect(BUYER)
    for i in (1, 2, 3):
        assert (await send_text(buyer if i < 3 else phone, conv, f"m{i}", f"c{i}"))["seq"] == i
    # The limit is per user, across that user's connections, and counts edits too.
    for client in (buyer, phone):
        await client.send(
            {
                "type": "send",
                "conversation_id": conv,
                "client_msg_id": "c4",
                "text": "x",
                "ref": "s",
            }
        )
        assert (await error_of(client, "s"))["code"] == "rate_limited"
    await buyer.send(edit_frame(conv, 1, "y", "e1"))
    assert (await error_of(buyer, "e1"))["code"] == "rate_limited"
    await assert_alive(buyer)
    assert await hub.message_count() == 3
    # Another user is not limited by the buyer's sends.
    seller = await hub.connect(SELLER)
    assert (await send_text(seller, conv, "fine", "s1"))["seq"] == 4
    # A new window opens on the clock, not on the wall.
    clock.advance(60)
    assert (await send_text(buyer, conv, "again", "c5"))["seq"] == 5


async def test_typing_rate_is_limited(start_hub: StartHub) -> None:
    hub = await start_hub(clock=ManualClock(datetime.now(UTC)), typing_rate_per_minute=2)
    conv = await hub.conversation()
    buyer = await hub.connect(BUYER)
    for state in ("start", "stop"):
        await buyer.send({"type": "typing", "conversation_id": conv, "state": state})
    await buyer.send({"type": "typing", "conversation_id": conv, "state": "start", "ref": "t"})
    assert (await error_of(buyer, "t"))["code"] == "rate_limited"
    await assert_alive(buyer)


async def test_connections_per_user_are_limited(start_hub: StartHub) -> None:
    hub = await start_hub(max_connections_per_user=2)
    first, _second = await hub.connect(BUYER), await hub.connect(BUYER)
    third = await hub.open()
    await third.send({"type": "auth", "token": hub.tenant.token(BUYER)})
    await refused_with(third, "too_many_connections")
    assert hub.services.rooms.user_connections(hub.tenant.id, BUYER) == 2
    # Other users are not affected.
    await assert_alive(await hub.connect(SELLER))
    # Once one closes, there is room again.
    await first.close()
    await hub.until(lambda: hub.services.rooms.user_connections(hub.tenant.id, BUYER) == 1)
    await assert_alive(await hub.connect(BUYER))


async def test_subscriptions_per_connection_are_limited(start_hub: StartHub) -> None:
    hub = await start_hub(max_subscriptions_per_connection=2)
    a, b, c = [await hub.conversation(order) for order in ("1", "2", "3")]
    buyer = await hub.connect(BUYER)
    await subscribe(buyer, a)
    await subscribe(buyer, b)
    await buyer.send({"type": "subscribe", "conversation_id": c, "ref": "third"})
    assert (await buyer.expect("error", ref="third"))["code"] == "too_many_subscriptions"
    # Subscribing again to one it has is not a new subscription.
    await subscribe(buyer, a, after_seq=0)
    await buyer.send({"type": "unsubscribe", "conversation_id": b})
    await buyer.expect("unsubscribed")
    assert (await subscribe(buyer, c))["conversation_id"] == c
    # A second connection has its own allowance.
    other = await hub.connect(BUYER)
    await subscribe(other, b)


async def test_expired_token_closes_the_socket_with_4001(start_hub: StartHub) -> None:
    clock = ManualClock(datetime.now(UTC))
    hub = await start_hub(clock=clock)
    conv = await hub.conversation()
    short = token_at(hub, clock, BUYER, timedelta(seconds=60))
    buyer, phone = await hub.connect(BUYER, token=short), await hub.connect(BUYER, token=short)
    seller = await hub.connect(SELLER, token=token_at(hub, clock, SELLER, timedelta(hours=1)))
    await subscribe(buyer, conv)
    await subscribe(seller, conv)
    clock.advance(59)
    assert hub.services.rooms.close_expired() == 0
    await assert_alive(buyer)
    clock.advance(2 + hub.services.settings.token_leeway_seconds)
    # Past exp (and the leeway verification grants), any frame closes the socket...
    await phone.send({"type": "ping", "ref": "late"})
    code, frames = await close_of(phone)
    assert (code, phone.conn.close_reason) == (4001, "token_expired")
    assert [f for f in frames if f["type"] == "pong"] == []
    await hub.until(lambda: hub.services.rooms.user_connections(hub.tenant.id, BUYER) == 1)
    # ...and so does the sweep, for sockets that stay quiet.
    assert hub.services.rooms.close_expired() == 1
    code, _ = await close_of(buyer)
    assert code == 4001
    assert buyer.conn.close_reason == "token_expired"
    await assert_alive(seller)
    await seller.expect("presence", user_id=BUYER, status="away")
    # Nor can the token open a new socket.
    again = await hub.open()
    await again.send({"type": "auth", "token": short})
    await refused_with(again, "token_expired")
    assert hub.services.rooms.user_connections(hub.tenant.id, BUYER) == 0
