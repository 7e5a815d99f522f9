"""SMTP failures: permanent ones recorded and not retried, transient ones retried."""

from __future__ import annotations

import random

from chat_service.services import Services
from notifier.delivery import AwayNotifier, retry_delay
from notifier.wiring import build_notifier
from tests.notifier.conftest import Chat, advance, notifier_settings, run_due
from tests.notifier.smtp_sink import Sink


async def test_a_permanent_refusal_is_recorded_and_not_retried(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    sink.reject_rcpt = "550 5.1.1 No such user"
    await chat.send("buyer-1", "buyer", "are you there?")
    advance(services, 121)
    [outcome] = await run_due(notifier)
    assert outcome.status == "failed"
    note = await chat.note("seller-1")
    assert (note["state"], note["outcome"]) == ("idle", "failed")
    assert "550" in str(note["last_error"])
    sink.reject_rcpt = None
    advance(services, 3600)
    assert await run_due(notifier) == []
    assert sink.received == []


async def test_a_transient_failure_is_retried_with_backoff(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    sink.data_replies = ["421 4.3.2 Service busy, try later"]
    await chat.send("buyer-1", "buyer", "retry me")
    advance(services, 121)
    [claim] = await notifier.dispatch_due()
    first = await notifier.deliver(claim.notification_id, claim.claim_id, attempt=0)
    assert first.status == "retry"
    assert 5.0 <= first.retry_in <= 10.0
    note = await chat.note("seller-1")
    assert note["state"] == "claimed"
    assert "421" in str(note["last_error"])
    # While the task waits for its retry, no dispatcher takes the claim.
    assert await notifier.dispatch_due() == []
    advance(services, first.retry_in)
    second = await notifier.deliver(claim.notification_id, claim.claim_id, attempt=1)
    assert second.status == "sent"
    assert len(sink.received) == 1


async def test_giving_up_after_the_last_retry_is_recorded(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    sink.data_replies = ["451 4.3.0 Temporary failure"] * 10
    await chat.send("buyer-1", "buyer", "never arrives")
    advance(services, 121)
    [claim] = await notifier.dispatch_due()
    statuses = [
        (await notifier.deliver(claim.notification_id, claim.claim_id, attempt=n)).status
        for n in range(5)
    ]
    assert statuses == ["retry", "retry", "retry", "failed", "duplicate"]
    note = await chat.note("seller-1")
    assert (note["state"], note["outcome"]) == ("idle", "failed")
    assert str(note["last_error"]).startswith("gave up")
    assert sink.received == []


async def test_an_unreachable_server_is_transient(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    closed = notifier_settings(sink, smtp_port=1)  # nothing listens on port 1
    offline = build_notifier(services, closed)
    await chat.send("buyer-1", "buyer", "no server")
    advance(services, 121)
    [claim] = await offline.dispatch_due()
    outcome = await offline.deliver(claim.notification_id, claim.claim_id)
    assert outcome.status == "retry"


def test_retry_delays_grow_and_stay_capped() -> None:
    rng = random.Random(7)
    delays = [retry_delay(n, base=30, cap=3600, rng=rng) for n in range(12)]
    assert all(15 <= d <= 3600 for d in delays)
    assert max(delays[:2]) <= 60
    assert max(delays[8:]) > 600
