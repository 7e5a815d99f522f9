"""Recording pending notifications, and the tokens of email links."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from chat_service.auth.principals import ServerPrincipal
from chat_service.errors import Forbidden, Gone
from chat_service.notifications.tokens import NotificationTokens
from chat_service.services import Services
from notifier.delivery import MAX_CLAIMS, AwayNotifier
from tests.notifier.conftest import Chat, advance, run_due
from tests.notifier.smtp_sink import Sink


async def test_a_resend_or_a_later_message_never_moves_the_window(
    services: Services, chat: Chat
) -> None:
    await chat.send("buyer-1", "buyer", "first")
    first_due = (await chat.note("seller-1"))["due_at"]
    advance(services, 100)
    await chat.send("buyer-1", "buyer", "second")
    # The writer hook runs on resends too (same client_msg_id: same message).
    conv = await services.conversations.check_access(
        ServerPrincipal(tenant=chat.tenant.id), chat.conv_id
    )
    again = await services.conversations.send(
        chat.user("buyer-1", "buyer"), chat.conv_id, client_msg_id="m2", text="second"
    )
    assert not again.created
    policy = await services.policies.current(chat.tenant.id)
    await chat.pending.schedule(conv, again.message, None, policy, services.clock.now())
    note = await chat.note("seller-1")
    assert note["due_at"] == first_due
    assert note["state"] == "pending"


async def test_edits_and_own_messages_schedule_nothing(services: Services, chat: Chat) -> None:
    seq = await chat.send("buyer-1", "buyer", "typo")
    conv = await services.conversations.check_access(
        ServerPrincipal(tenant=chat.tenant.id), chat.conv_id
    )
    edit = await services.conversations.edit(
        chat.user("buyer-1", "buyer"),
        chat.conv_id,
        target_seq=seq,
        text="fixed",
        client_msg_id="e1",
    )
    policy = await services.policies.current(chat.tenant.id)
    assert await chat.pending.schedule(conv, edit.message, None, policy, services.clock.now()) == 0
    assert await services.stores.db["notifications"].count_documents({"user": "buyer-1"}) == 0


async def test_a_poison_notification_is_dropped_after_repeated_lost_claims(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", "my task keeps dying")
    advance(services, 121)
    for _ in range(MAX_CLAIMS + 1):
        assert len(await notifier.dispatch_due()) == 1  # ... and the task dies every time
        advance(services, 301)
    outcomes = await run_due(notifier)
    assert [(o.status, o.reason) for o in outcomes] == [("failed", "too_many_claims")]
    advance(services, 3600)
    assert await run_due(notifier) == []
    assert sink.received == []


def test_link_tokens_are_opaque_bound_to_purpose_and_expire() -> None:
    tokens = NotificationTokens({1: os.urandom(32)}, 1)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    expires = int((now + timedelta(days=1)).timestamp())
    token = tokens.mint(
        "open", tenant="t_abc", user="seller-1", conversation="c_1", expires=expires
    )
    assert "seller" not in token
    assert "c_1" not in token
    found = tokens.verify("open", token, now=now)
    assert (found.tenant, found.user, found.conversation) == ("t_abc", "seller-1", "c_1")
    with pytest.raises(Forbidden):
        tokens.verify("unsubscribe", token, now=now)
    with pytest.raises(Gone):
        tokens.verify("open", token, now=now + timedelta(days=2))
    other = NotificationTokens({1: os.urandom(32)}, 1)
    with pytest.raises(Forbidden):
        other.verify("open", token, now=now)
    rotated = NotificationTokens({1: os.urandom(32), 2: os.urandom(32)}, 2)
    with pytest.raises(Forbidden):
        rotated.verify("open", "2." + token.split(".", 1)[1], now=now)
