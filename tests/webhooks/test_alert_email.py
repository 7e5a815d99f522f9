"""The failure alert as a real email through a local SMTP sink."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_service.clock import ManualClock
from notifier.webhook_alerts import build_webhook_dispatcher, webhook_alert_sender
from tests.fixtures.app import TenantKit
from tests.notifier.conftest import notifier_settings
from tests.notifier.smtp_sink import Sink, SinkServer
from tests.orders.conftest import order_create
from tests.webhooks.conftest import LIMITS, Hooks
from tests.webhooks.receiver import Receiver


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = SinkServer()
    yield server.start()
    server.stop()


async def test_the_alert_arrives_once_as_an_auto_generated_email(
    hooks: Hooks, tenant: TenantKit, receiver: Receiver, sink: Sink, clock: ManualClock
) -> None:
    dispatcher = build_webhook_dispatcher(
        hooks.webhooks, clock, notifier_settings(sink), limits=LIMITS
    )
    await hooks.configure(
        tenant, receiver.url, events=["order.created"], alert_email="ops@shop.test"
    )
    receiver.default = 500
    for n in range(4):
        await hooks.orders.create(tenant.server, order_create(f"m{n}"))
    await dispatcher.deliver_due()
    [message] = sink.messages()
    assert message["To"] == "ops@shop.test" and message["Auto-Submitted"] == "auto-generated"
    assert "failing" in message["Subject"]
    body = message.get_content()
    assert "HTTP 500" in body and "Order" not in body


async def test_a_header_injection_in_the_address_is_refused(sink: Sink) -> None:
    send = webhook_alert_sender(notifier_settings(sink), ManualClock())
    with pytest.raises(ValueError, match="e-mail address"):
        await send("ops@shop.test\r\nBcc: x@evil.test", "s", "t")
    assert sink.messages() == []
