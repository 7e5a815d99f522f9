"""Each message is emailed at most once: concurrent dispatchers, duplicate
tasks, and a worker that crashes between sending and marking."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

import pytest

from chat_service.services import Services
from notifier.delivery import AwayNotifier
from notifier.smtp import SmtpSender
from notifier.wiring import build_notifier
from tests.notifier.conftest import Chat, advance, notifier_settings, run_due
from tests.notifier.smtp_sink import Sink


class SimulatedCrash(Exception):
    """The worker process dies right after SMTP accepted the email."""


class CrashAfterSend:
    def __init__(self, real: SmtpSender) -> None:
        self._real = real

    async def send(self, message: EmailMessage, **envelope: Any) -> None:
        await self._real.send(message, **envelope)
        raise SimulatedCrash


class CrashBeforeData:
    """The worker dies after RCPT, before any byte of the message went out."""

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, message: EmailMessage, **envelope: Any) -> None:
        self.calls += 1  # RCPT answered; DATA (``envelope["before_data"]``) never begins
        raise SimulatedCrash


async def test_two_dispatchers_and_duplicate_tasks_send_one_email(
    services: Services, chat: Chat, sink: Sink
) -> None:
    first = build_notifier(services, notifier_settings(sink))
    second = build_notifier(services, notifier_settings(sink))
    for text in ("one", "two", "three"):
        await chat.send("buyer-1", "buyer", text)
    advance(services, 121)
    claims_a, claims_b = await asyncio.gather(first.dispatch_due(), second.dispatch_due())
    claims = claims_a + claims_b
    assert len(claims) == 1  # one notification, claimed once
    [claim] = claims
    # The broker delivers the task twice (late ack), to two workers at once.
    outcomes = await asyncio.gather(
        first.deliver(claim.notification_id, claim.claim_id),
        second.deliver(claim.notification_id, claim.claim_id),
    )
    assert sorted(o.status for o in outcomes) == ["duplicate", "sent"]
    # ... and once more, much later.
    advance(services, 3600)
    assert (await first.deliver(claim.notification_id, claim.claim_id)).status == "duplicate"
    assert await run_due(second) == []
    assert len(sink.received) == 1


async def test_a_crash_between_send_and_mark_never_resends(
    services: Services, chat: Chat, sink: Sink
) -> None:
    settings = notifier_settings(sink)
    crashing = build_notifier(services, settings, sender=CrashAfterSend(SmtpSender(settings)))
    healthy = build_notifier(services, settings)
    await chat.send("buyer-1", "buyer", "sent just before the crash")
    advance(services, 121)
    [claim] = await crashing.dispatch_due()
    with pytest.raises(SimulatedCrash):
        await crashing.deliver(claim.notification_id, claim.claim_id)
    assert len(sink.received) == 1
    note = await chat.note("seller-1")
    assert note["state"] == "sending"
    # The task is redelivered to another worker at once: the send may be in flight.
    assert (await healthy.deliver(claim.notification_id, claim.claim_id)).status == "in_flight"
    # Beat ticks while the lease holds: nothing is claimed again.
    advance(services, 60)
    assert await run_due(healthy) == []
    # After the lease: a retry settles it as uncertain, and does not resend.
    advance(services, settings.claim_lease_seconds)
    retried = await healthy.deliver(claim.notification_id, claim.claim_id, attempt=1)
    assert retried.status == "uncertain"
    assert await run_due(healthy) == []
    assert len(sink.received) == 1
    note = await chat.note("seller-1")
    assert (note["state"], note["outcome"]) == ("idle", "uncertain")
    # Later messages are emailed normally, without the one already sent.
    await chat.send("buyer-1", "buyer", "after the crash")
    advance(services, 121)
    assert [o.status for o in await run_due(healthy)] == ["sent"]
    body = sink.messages()[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "after the crash" in body
    assert "sent just before the crash" not in body


async def test_a_crash_before_data_is_sent_once_after_the_lease(
    services: Services, chat: Chat, sink: Sink
) -> None:
    settings = notifier_settings(sink)
    dying = CrashBeforeData()
    crashing = build_notifier(services, settings, sender=dying)
    await chat.send("buyer-1", "buyer", "the worker died before DATA")
    advance(services, 121)
    [claim] = await crashing.dispatch_due()
    with pytest.raises(SimulatedCrash):
        await crashing.deliver(claim.notification_id, claim.claim_id)
    assert dying.calls == 1
    assert sink.received == []
    assert (await chat.note("seller-1"))["state"] == "sending"
    healthy = build_notifier(services, settings)
    # Within the lease nothing happens; after it the dispatcher takes it again.
    advance(services, 60)
    assert await run_due(healthy) == []
    advance(services, settings.claim_lease_seconds)
    assert [o.status for o in await run_due(healthy)] == ["sent"]
    assert len(sink.received) == 1
    assert "the worker died before DATA" in (
        sink.messages()[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    )
    assert await run_due(healthy) == []
    assert len(sink.received) == 1


async def test_a_redelivered_task_after_a_crash_before_data_sends_once(
    services: Services, chat: Chat, sink: Sink
) -> None:
    settings = notifier_settings(sink)
    crashing = build_notifier(services, settings, sender=CrashBeforeData())
    await chat.send("buyer-1", "buyer", "redelivered")
    advance(services, 121)
    [claim] = await crashing.dispatch_due()
    with pytest.raises(SimulatedCrash):
        await crashing.deliver(claim.notification_id, claim.claim_id)
    healthy = build_notifier(services, settings)
    assert (await healthy.deliver(claim.notification_id, claim.claim_id)).status == "in_flight"
    advance(services, settings.claim_lease_seconds + 1)
    first = await healthy.deliver(claim.notification_id, claim.claim_id)
    assert (first.status, first.reason) == ("retry", "crashed_before_data")
    # The task's retry and a beat tick race for it: one email.
    outcomes = await asyncio.gather(
        healthy.deliver(claim.notification_id, claim.claim_id, attempt=1), run_due(healthy)
    )
    assert len(sink.received) == 1, outcomes
    assert (await chat.note("seller-1"))["outcome"] == "sent"


async def test_a_lost_task_after_the_crash_is_settled_by_the_dispatcher(
    services: Services, chat: Chat, sink: Sink
) -> None:
    settings = notifier_settings(sink)
    crashing = build_notifier(services, settings, sender=CrashAfterSend(SmtpSender(settings)))
    await chat.send("buyer-1", "buyer", "crash and lose the task")
    advance(services, 121)
    [claim] = await crashing.dispatch_due()
    with pytest.raises(SimulatedCrash):
        await crashing.deliver(claim.notification_id, claim.claim_id)
    advance(services, settings.claim_lease_seconds + 1)
    healthy = build_notifier(services, settings)
    assert await run_due(healthy) == []
    note = await chat.note("seller-1")
    assert (note["state"], note["outcome"]) == ("idle", "uncertain")
    assert len(sink.received) == 1


async def test_a_claim_whose_task_was_lost_is_claimed_again(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", "the broker lost my task")
    advance(services, 121)
    [lost] = await notifier.dispatch_due()  # enqueued, but the task never runs
    advance(services, 60)
    assert await notifier.dispatch_due() == []
    advance(services, 300)
    [again] = await notifier.dispatch_due()
    assert again.notification_id == lost.notification_id
    assert (await notifier.deliver(again.notification_id, again.claim_id)).status == "sent"
    assert (await notifier.deliver(lost.notification_id, lost.claim_id)).status == "duplicate"
    assert len(sink.received) == 1


class ArrivesDuringSend:
    """A new message is stored while the worker is sending the previous batch."""

    def __init__(self, real: SmtpSender, chat: Chat) -> None:
        self._real = real
        self._chat = chat

    async def send(self, message: EmailMessage, **envelope: Any) -> None:
        await self._chat.send("buyer-1", "buyer", "arrived mid-send")
        await self._real.send(message, **envelope)


async def test_a_message_stored_while_a_worker_holds_the_notification_is_not_lost(
    services: Services, chat: Chat, sink: Sink
) -> None:
    settings = notifier_settings(sink)
    busy = build_notifier(services, settings, sender=ArrivesDuringSend(SmtpSender(settings), chat))
    await chat.send("buyer-1", "buyer", "before the send")
    advance(services, 121)
    assert [o.status for o in await run_due(busy)] == ["sent"]
    note = await chat.note("seller-1")
    assert note["state"] == "pending"  # reopened for the message that came mid-send
    advance(services, 121)
    healthy = build_notifier(services, settings)
    assert [o.status for o in await run_due(healthy)] == ["sent"]
    first, second = (m.get_body(("plain",)).get_content() for m in sink.messages())  # type: ignore[union-attr]
    assert "before the send" in first
    assert "arrived mid-send" not in first
    assert "arrived mid-send" in second
    assert "before the send" not in second
