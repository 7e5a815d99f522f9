"""The webhook failure alert as an email, and the dispatcher that sends it.

The core's :class:`~chat_service.webhooks.delivery.WebhookDispatcher` takes
an ``AlertSender`` callable so it never imports the notifier; this module
supplies one that sends a short plain-text email over SMTP
(:class:`notifier.smtp.SmtpSender`). The text names the webhook host and
the last error only: no event payloads.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from chat_service.clock import Clock
from chat_service.webhooks.delivery import AlertSender, DispatchLimits, WebhookDispatcher
from chat_service.webhooks.service import WebhookService
from notifier.config import NotifierSettings
from notifier.mail import EMAIL_POLICY
from notifier.render import one_line
from notifier.smtp import SmtpSender
from notifier.types import MailSender

__all__ = ["build_webhook_dispatcher", "webhook_alert_sender"]


def webhook_alert_sender(
    settings: NotifierSettings, clock: Clock, sender: MailSender | None = None
) -> AlertSender:
    mail = sender or SmtpSender(settings)
    from_address = settings.sender()

    async def send_alert(to: str, subject: str, text: str) -> None:
        if one_line(to, 320) != to or to.count("@") != 1:
            raise ValueError("not a single e-mail address")
        message = EmailMessage(policy=EMAIL_POLICY)
        message["From"] = from_address
        message["To"] = to
        message["Subject"] = one_line(subject, 200)
        message["Date"] = format_datetime(clock.now())
        message["Message-ID"] = make_msgid(domain=settings.mail_domain)
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        message.set_content(text, subtype="plain", charset="utf-8")
        await mail.send(message, sender=from_address.addr_spec, recipient=to)

    return send_alert


def build_webhook_dispatcher(
    webhooks: WebhookService,
    clock: Clock,
    settings: NotifierSettings,
    *,
    sender: MailSender | None = None,
    limits: DispatchLimits | None = None,
) -> WebhookDispatcher:
    return WebhookDispatcher(
        webhooks, clock, alert=webhook_alert_sender(settings, clock, sender), limits=limits
    )
