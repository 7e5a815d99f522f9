"""Handing one email to an SMTP server with ``aiosmtplib``, classifying failures.

The conversation is driven step by step (connect, MAIL, RCPT, DATA) so that
the phase of a failure is known:

* anything before DATA, and a 4xx reply to DATA: nothing was delivered and
  the server asked us to come back -> :class:`TransientMailError`;
* a 5xx reply at any step -> :class:`PermanentMailError`;
* a timeout or a dropped connection *during* DATA: the server may have
  accepted the message -> :class:`UncertainMailError` (the caller does not
  resend, so nobody gets an email twice).
"""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from notifier.config import NotifierSettings
from notifier.errors import PermanentMailError, TransientMailError, UncertainMailError
from notifier.types import BeforeData

__all__ = ["SmtpSender"]


def _classify(exc: aiosmtplib.SMTPResponseException, phase: str) -> Exception:
    reason = f"{phase}: {exc.code}"
    if 400 <= exc.code < 500:
        return TransientMailError(reason, code=exc.code)
    return PermanentMailError(reason, code=exc.code)


class SmtpSender:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings

    async def send(
        self,
        message: EmailMessage,
        *,
        sender: str,
        recipient: str,
        before_data: BeforeData | None = None,
    ) -> None:
        """Deliver ``message`` to ``recipient`` or raise a ``MailError``."""
        settings = self._settings
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            use_tls=settings.smtp_tls,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
            local_hostname=settings.smtp_local_hostname,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )
        payload = message.as_bytes()  # the message's own policy (notifier.mail)
        phase = "connect"
        try:
            await client.connect()
            phase = "envelope"
            await client.mail(sender)
            await client.rcpt(recipient)
            if before_data is not None:
                phase = "before data"
                await before_data()
            phase = "data"
            await client.data(payload)
        except aiosmtplib.SMTPResponseException as exc:
            raise _classify(exc, phase) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            if phase == "data":
                raise UncertainMailError(f"data: {type(exc).__name__}") from None
            raise TransientMailError(f"{phase}: {type(exc).__name__}") from None
        except TransientMailError:
            raise
        except Exception as exc:  # the before-data hook (a store error): nothing sent
            if phase != "before data":
                raise
            raise TransientMailError(f"{phase}: {type(exc).__name__}") from None
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()
