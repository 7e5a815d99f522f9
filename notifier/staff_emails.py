"""The "new quote request" email to the marketplace's staff address.

Claim -> look up address -> render -> send -> settle; the states and the
at-most-once argument are in :mod:`chat_service.quotes.staff`. No staff
address configured: the notification is settled ``skipped``.

The email carries metadata only, never the parties' words (the request's
note, option values): the quote id, and when the tenant's policy gives staff
``full`` emails, the buyer's and seller's display names and the number of
line items. Under ``redacted`` (or ``off``, or a policy that cannot be read:
fail closed) only the quote id is shown, so names never leave the service.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from chat_service.clock import Clock
from chat_service.quotes.staff import StaffNotificationRepository
from chat_service.services import Services
from notifier.config import NotifierSettings
from notifier.delivery import retry_delay
from notifier.errors import PermanentMailError, TransientMailError, UncertainMailError
from notifier.mail import EMAIL_POLICY
from notifier.render import one_line
from notifier.smtp import SmtpSender
from notifier.types import MailSender
from policies import Policy, email_content_mode

__all__ = [
    "StaffAddress",
    "StaffEmails",
    "StaffReport",
    "build_staff_emails",
    "render_staff_email",
]

log = logging.getLogger(__name__)
Doc = dict[str, Any]
# tenant -> the configured staff address, or None.
StaffAddress = Callable[[str], Awaitable[str | None]]
PolicySource = Callable[[str], Awaitable[Policy]]


@dataclass
class StaffReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    uncertain: int = 0


def render_staff_email(note: Doc, quote: Doc | None, *, full: bool) -> tuple[str, str]:
    """(subject, text) of the email: ids and counts, never free text."""
    quote_id = one_line(str(note["quote_id"]), 64)
    if not full or quote is None:
        return (
            "A new quote request",
            f"A buyer requested a quote.\n\nReference: quote {quote_id}\n\n"
            "Open the quote in the marketplace to see who asked and for what.\n",
        )
    buyer = one_line(quote["buyer"]["display_name"], 80)
    seller = one_line(quote["seller"]["display_name"], 80)
    lines = len(quote["state"]["lines"])
    return (
        f"New quote request {quote_id}",
        f"{buyer} requested a quote from {seller}: "
        f"{lines} line item{'' if lines == 1 else 's'}.\n\n"
        f"Reference: quote {quote_id}\n",
    )


class StaffEmails:
    def __init__(
        self,
        *,
        repository: StaffNotificationRepository,
        staff_address: StaffAddress,
        policies: PolicySource,
        sender: MailSender,
        settings: NotifierSettings,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self._repo = repository
        self._address = staff_address
        self._policies = policies
        self._sender = sender
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)
        self._from = settings.sender()

    async def send_pending(self, limit: int | None = None) -> StaffReport:
        """Settle lapsed sends, then claim and send up to ``limit`` notifications."""
        report = StaffReport()
        most = limit or self._settings.dispatch_batch
        now = self._clock.now()
        for doc in await self._repo.lapsed(now, most):
            if doc.get("data_started_at") is None:
                # The worker died before DATA: the server never had it, send again.
                if await self._repo.release(doc["_id"], doc["claim_id"], now, "lost_before_data"):
                    report.retried += 1
            elif await self._repo.settle(
                doc["_id"], doc["claim_id"], {"status": "uncertain", "settled_at": now}
            ):
                report.uncertain += 1
                log.warning("staff email %s outcome unknown (lease lapsed); not resent", doc["_id"])
        for _ in range(most):
            claim_id = secrets.token_hex(8)
            lease = self._clock.now() + timedelta(seconds=self._settings.claim_lease_seconds)
            claimed = await self._repo.claim(self._clock.now(), claim_id, lease)
            if claimed is None:
                break
            status = await self._send(claimed, claim_id)
            setattr(report, status, getattr(report, status) + 1)
        return report

    async def _send(self, doc: Doc, claim_id: str) -> str:
        nid, tenant = doc["_id"], doc["tenant"]
        try:
            address = await self._address(tenant)
            policy = None if address is None else await self._policies(tenant)
            quote = None if address is None else await self._repo.quote_of(doc)
        except BaseException:
            # Nothing was sent: give the claim back for the task's retry.
            await self._repo.release(nid, claim_id, self._clock.now(), "lookup_failed")
            raise
        if address is None:
            await self._settle(doc, claim_id, "skipped", "no_staff_address")
            return "skipped"
        full = email_content_mode(policy, "staff") == "full"
        subject, text = render_staff_email(doc, quote, full=full)

        async def before_data() -> None:
            if not await self._repo.mark_data_started(nid, claim_id, self._clock.now()):
                raise TransientMailError("lost_claim")

        try:
            message = self._message(address, subject, text)
            await self._sender.send(
                message, sender=self._from.addr_spec, recipient=address, before_data=before_data
            )
        except ValueError:
            await self._settle(doc, claim_id, "failed", "bad_address")
            return "failed"
        except PermanentMailError as exc:
            await self._settle(doc, claim_id, "failed", exc.reason)
            return "failed"
        except UncertainMailError as exc:
            await self._settle(doc, claim_id, "uncertain", exc.reason)
            return "uncertain"
        except TransientMailError as exc:
            if int(doc.get("attempts") or 0) > self._settings.send_max_retries:
                await self._settle(doc, claim_id, "failed", f"gave up: {exc.reason}")
                return "failed"
            delay = retry_delay(
                int(doc.get("attempts") or 1) - 1,
                base=self._settings.retry_base_seconds,
                cap=self._settings.retry_max_seconds,
                rng=self._rng,
            )
            retry_at = self._clock.now() + timedelta(seconds=delay)
            await self._repo.release(nid, claim_id, retry_at, exc.reason)
            return "retried"
        await self._settle(doc, claim_id, "sent", None)
        return "sent"

    async def _settle(self, doc: Doc, claim_id: str, status: str, error: str | None) -> None:
        fields: Doc = {"status": status, "settled_at": self._clock.now(), "last_error": error}
        await self._repo.settle(doc["_id"], claim_id, fields)
        if status == "failed":
            log.warning("staff email %s failed: %s", doc["_id"], error)

    def _message(self, to: str, subject: str, text: str) -> EmailMessage:
        if one_line(to, 320) != to or to.count("@") != 1:
            raise ValueError("not a single e-mail address")
        message = EmailMessage(policy=EMAIL_POLICY)
        message["From"] = self._from
        message["To"] = to
        message["Subject"] = one_line(subject, 200)
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = make_msgid(domain=self._settings.mail_domain)
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        message.set_content(text, subtype="plain", charset="utf-8")
        return message


def build_staff_emails(
    services: Services, settings: NotifierSettings, *, sender: MailSender | None = None
) -> StaffEmails:
    """The staff emails of ``services``' store, sent over SMTP."""
    return StaffEmails(
        repository=StaffNotificationRepository(services.stores.db),
        staff_address=services.tenants.staff_email,
        policies=services.policies.current,
        sender=sender or SmtpSender(settings),
        settings=settings,
        clock=services.clock,
    )
