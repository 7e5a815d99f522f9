"""A real Celery worker on the Redis broker runs ``dispatch_due`` and
``send_away_email`` into the SMTP sink."""

from __future__ import annotations

import asyncio

from celery.contrib.testing.worker import start_worker  # type: ignore[import-untyped]

from chat_service.services import Services
from notifier.app import make_celery
from notifier.runtime import close_runtime
from tests.notifier.conftest import Chat, advance, notifier_settings
from tests.notifier.smtp_sink import Sink


async def test_a_real_worker_sends_the_away_email_once(
    services: Services, chat: Chat, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", "sent through celery")
    advance(services, 121)  # due on the test clock; the worker's clock is later still
    app = make_celery(services.settings, notifier_settings(sink))
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.beat_schedule["dispatch-due-away-emails"]["schedule"] == 15.0
    staff = app.conf.beat_schedule["send-staff-emails"]
    assert staff["task"] == "notifier.tasks.send_staff_emails" and staff["schedule"] == 15.0
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            dispatch = app.tasks["notifier.tasks.dispatch_due"]
            await asyncio.to_thread(dispatch.delay)
            await asyncio.to_thread(dispatch.delay)  # a second tick finds nothing
            for _ in range(200):
                if sink.received:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
    finally:
        await asyncio.to_thread(close_runtime, app)
    assert len(sink.received) == 1
    assert "sent through celery" in sink.received[0].raw.decode()
