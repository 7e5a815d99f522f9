"""The "new quote request" email to the marketplace's staff address, through a
real SMTP sink: one email per request, none twice, skipped without an address."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from chat_service.audit import AuditActor
from chat_service.quotes.service import QuoteService
from chat_service.services import Services
from notifier.smtp import SmtpSender
from notifier.staff_emails import StaffEmails, build_staff_emails
from tests.fixtures.app import TenantKit
from tests.notifier.conftest import advance, notifier_settings
from tests.notifier.smtp_sink import Sink
from tests.quotes.conftest import build_quotes, create_body

STAFF = "quotes@shop.test"


@pytest.fixture
async def quotes(services: Services) -> QuoteService:
    built = build_quotes(services)
    await built.repository.ensure_indexes()
    return built


@pytest.fixture
def staff(services: Services, sink: Sink) -> StaffEmails:
    return build_staff_emails(services, notifier_settings(sink))


async def notes(services: Services) -> list[dict[str, object]]:
    return await services.stores.db["staff_notifications"].find({}).to_list(None)


async def test_one_email_per_request_and_none_on_a_rerun(
    services: Services, tenant: TenantKit, quotes: QuoteService, staff: StaffEmails, sink: Sink
) -> None:
    await services.tenants.set_staff_email(tenant.id, STAFF)
    await quotes.request(tenant.server, create_body("Q-1"))
    await quotes.request(tenant.server, create_body("Q-1"))  # the backend resends
    await quotes.request(tenant.server, create_body("Q-2"))

    first = await staff.send_pending()
    again = await staff.send_pending()

    assert (first.sent, again.sent) == (2, 0)
    messages = sink.messages()
    assert sorted(m["Subject"] for m in messages) == [
        "New quote request Q-1",
        "New quote request Q-2",
    ]
    message = messages[0]
    assert message["To"] == STAFF and message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert "Buyer requested a quote from Seller: 2 line items" in body
    # The request's note and the options are the parties' words: never mailed.
    assert "office" not in body and "Denver" not in body and "oak" not in body
    assert {n["status"] for n in await notes(services)} == {"sent"}


async def test_without_a_staff_address_the_notification_is_skipped(
    services: Services, tenant: TenantKit, quotes: QuoteService, staff: StaffEmails, sink: Sink
) -> None:
    await quotes.request(tenant.server, create_body("Q-1"))
    report = await staff.send_pending()
    assert (report.sent, report.skipped) == (0, 1)
    assert sink.messages() == []
    [note] = await notes(services)
    assert note["status"] == "skipped" and note["last_error"] == "no_staff_address"
    # Setting the address later does not resend old requests.
    await services.tenants.set_staff_email(tenant.id, STAFF)
    assert (await staff.send_pending()).sent == 0


async def test_a_redacted_policy_keeps_names_out_of_the_email(
    services: Services, tenant: TenantKit, quotes: QuoteService, staff: StaffEmails, sink: Sink
) -> None:
    await services.policies.update(
        tenant.id, AuditActor.system("test"), expected_version=0, preset_name="hipaa"
    )
    await services.tenants.set_staff_email(tenant.id, STAFF)
    await quotes.request(tenant.server, create_body("Q-7"))
    assert (await staff.send_pending()).sent == 1
    [message] = sink.messages()
    assert message["Subject"] == "A new quote request"
    body = message.get_content()
    assert "Q-7" in body and "Buyer" not in body and "Seller" not in body


async def test_a_refused_address_fails_once_and_is_not_retried(
    services: Services, tenant: TenantKit, quotes: QuoteService, staff: StaffEmails, sink: Sink
) -> None:
    sink.reject_rcpt = "550 5.1.1 no such user"
    await services.tenants.set_staff_email(tenant.id, STAFF)
    await quotes.request(tenant.server, create_body("Q-1"))
    assert (await staff.send_pending()).failed == 1
    sink.reject_rcpt = None
    assert (await staff.send_pending()).sent == 0
    assert sink.messages() == []


async def test_the_staff_address_is_stored_sealed(services: Services, tenant: TenantKit) -> None:
    await services.tenants.set_staff_email(tenant.id, STAFF)
    doc = await services.stores.db["tenants"].find_one({"_id": tenant.id})
    assert doc is not None and STAFF.encode() not in repr(doc).encode()
    assert await services.tenants.staff_email(tenant.id) == STAFF
    await services.tenants.set_staff_email(tenant.id, None)
    assert await services.tenants.staff_email(tenant.id) is None


async def test_a_deferred_send_is_retried_later_and_sent_once(
    services: Services, tenant: TenantKit, quotes: QuoteService, staff: StaffEmails, sink: Sink
) -> None:
    sink.data_replies = ["421 4.3.0 try later"]
    await services.tenants.set_staff_email(tenant.id, STAFF)
    await quotes.request(tenant.server, create_body("Q-1"))
    assert (await staff.send_pending()).retried == 1
    assert (await staff.send_pending()).sent == 0  # not due yet
    advance(services, 700)
    assert (await staff.send_pending()).sent == 1
    assert (await staff.send_pending()).sent == 0
    assert len(sink.messages()) == 1


class Crash(Exception):
    """The worker process dies."""


class DiesBeforeData:
    async def send(self, message: EmailMessage, **envelope: Any) -> None:
        raise Crash  # after RCPT, before DATA: the server holds nothing


class DiesAfterData:
    def __init__(self, real: SmtpSender) -> None:
        self._real = real

    async def send(self, message: EmailMessage, **envelope: Any) -> None:
        await self._real.send(message, **envelope)
        raise Crash  # the server has the email; the worker never marks it


@pytest.mark.parametrize(
    ("dies", "emails", "status"), [("before", 1, "sent"), ("after", 1, "uncertain")]
)
async def test_a_worker_killed_mid_send_leaves_exactly_one_email(
    services: Services,
    tenant: TenantKit,
    quotes: QuoteService,
    sink: Sink,
    dies: str,
    emails: int,
    status: str,
) -> None:
    settings = notifier_settings(sink)
    sender = DiesBeforeData() if dies == "before" else DiesAfterData(SmtpSender(settings))
    crashing = build_staff_emails(services, settings, sender=sender)
    await services.tenants.set_staff_email(tenant.id, STAFF)
    await quotes.request(tenant.server, create_body("Q-1"))
    with pytest.raises(Crash):
        await crashing.send_pending()
    healthy = build_staff_emails(services, settings)
    assert (await healthy.send_pending()).sent == 0  # the lease still holds
    advance(services, settings.claim_lease_seconds + 1)
    await healthy.send_pending()  # recovers the lapsed claim (and sends, when safe)
    await healthy.send_pending()
    assert len(sink.messages()) == emails
    assert [n["status"] for n in await notes(services)] == [status]
