"""Away detection: who gets an email, when, and how many."""

from __future__ import annotations

from chat_service.clock import ManualClock
from chat_service.hub.presence import PresenceTracker
from chat_service.services import Services
from notifier.delivery import AwayNotifier
from tests.notifier.conftest import ORDER, Chat, advance, run_due
from tests.notifier.smtp_sink import Sink


async def test_away_recipient_gets_one_email_after_the_delay(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", "Did the chair ship yet?")
    advance(services, 119)
    assert await run_due(notifier) == []
    advance(services, 2)
    outcomes = await run_due(notifier)
    assert [o.status for o in outcomes] == ["sent"]
    [received] = sink.received
    assert received.recipients == ["s@mail.test"]
    email = received.parsed()
    assert email["Subject"] == f"1 new message from Brenda Buyer about order #{ORDER}"
    assert "Did the chair ship yet?" in email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    note = await chat.note("seller-1")
    assert note["state"] == "idle"
    assert note["outcome"] == "sent"
    # Nothing left: later ticks send nothing more.
    advance(services, 600)
    assert await run_due(notifier) == []
    assert len(sink.received) == 1


async def test_three_messages_in_one_window_make_one_email(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    texts = ["The chair arrived", "but it is green", "not blue as ordered"]
    for text in texts:
        await chat.send("buyer-1", "buyer", text)
        advance(services, 30)
    # A fixed window: due 120 s after the first message, not after the last.
    advance(services, 31)
    assert [o.status for o in await run_due(notifier)] == ["sent"]
    [email] = sink.messages()
    assert email["Subject"].startswith("3 new messages from Brenda Buyer")
    body = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert [body.index(t) for t in texts] == sorted(body.index(t) for t in texts)
    html = email.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert all(t in html for t in texts)


async def test_a_message_after_the_email_opens_a_new_window(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", "first")
    advance(services, 121)
    await run_due(notifier)
    await chat.send("buyer-1", "buyer", "second")
    advance(services, 121)
    assert [o.status for o in await run_due(notifier)] == ["sent"]
    first, second = sink.messages()
    assert "second" not in first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    body = second.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "second" in body
    assert "first" not in body
    # Same thread for mail clients, different message ids.
    assert first["References"] == second["References"]
    assert first["Message-ID"] != second["Message-ID"]


async def test_no_email_when_read_in_time(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    seq = await chat.send("buyer-1", "buyer", "Back-ordered until May?")
    advance(services, 60)
    await services.conversations.mark_read(chat.user("seller-1", "seller"), chat.conv_id, seq)
    advance(services, 61)
    outcomes = await run_due(notifier)
    assert [(o.status, o.reason) for o in outcomes] == [("skipped", "nothing_unread")]
    assert sink.received == []


async def test_no_email_when_back_online_at_due_time(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", "Are you there?")
    advance(services, 121)
    clock = services.clock
    assert isinstance(clock, ManualClock)
    hub = PresenceTracker(services.stores, clock, process_id="hub-1", ttl_seconds=60)
    await hub.connected(chat.tenant.id, "seller-1")
    outcomes = await run_due(notifier)
    assert [(o.status, o.reason) for o in outcomes] == [("skipped", "online")]
    assert sink.received == []
    # What they saw online is settled: going away again does not email it.
    await hub.disconnected(chat.tenant.id, "seller-1")
    advance(services, 600)
    assert await run_due(notifier) == []


async def test_no_email_for_a_deleted_message(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    seq = await chat.send("buyer-1", "buyer", "my phone is five five five")
    await services.conversations.delete(
        chat.user("buyer-1", "buyer"), chat.conv_id, target_seq=seq, client_msg_id="del-1"
    )
    advance(services, 121)
    outcomes = await run_due(notifier)
    assert [(o.status, o.reason) for o in outcomes] == [("skipped", "nothing_unread")]
    assert sink.received == []


async def test_the_sender_is_never_notified_of_their_own_message(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", "hello")
    advance(services, 121)
    await run_due(notifier)
    assert [r.recipients for r in sink.received] == [["s@mail.test"]]
