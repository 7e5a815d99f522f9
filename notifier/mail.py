"""Building the away email as an ``EmailMessage`` (``email.policy.SMTP``, CRLF).

Every header value that could carry user data goes through
:func:`notifier.render.one_line`; the address of the recipient is parsed as an
address, never pasted. Headers set on every email:

* ``Auto-Submitted: auto-generated`` and ``X-Auto-Response-Suppress: All``
  (RFC 3834: out-of-office robots do not answer, no loops);
* ``Message-ID`` (fixed before sending and stored, see ``notifier.gate``) and
  ``In-Reply-To``/``References`` naming a stable, opaque id per conversation
  and recipient, so mail clients group the emails of one conversation;
* ``List-Unsubscribe`` with a signed URL and ``List-Unsubscribe-Post:
  List-Unsubscribe=One-Click`` (RFC 8058);
* ``Reply-To`` only when the caller passes one (reply-by-email allowed).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from notifier.render import Rendered, one_line

__all__ = ["EMAIL_POLICY", "build_email", "new_message_id", "thread_id"]

# RFC 5322's hard line limit instead of 78: a URL in ``List-Unsubscribe`` cannot
# be folded, and the 78-column policy would turn it into encoded words, which
# mail clients do not read as a link. Longer headers are still folded.
EMAIL_POLICY = SMTP.clone(max_line_length=998)


def new_message_id(attempt_id: str, domain: str) -> str:
    return make_msgid(idstring=attempt_id, domain=domain)


def thread_id(key: bytes, tenant: str, conversation: str, user: str, domain: str) -> str:
    """An id that is the same for every email of one conversation to one
    person and reveals neither: an HMAC of the three ids."""
    digest = hmac.new(key, f"{tenant}\n{conversation}\n{user}".encode(), hashlib.sha256)
    return f"<away.{digest.hexdigest()[:32]}@{domain}>"


def build_email(
    rendered: Rendered,
    *,
    sender: Address,
    to: str,
    date: datetime,
    message_id: str,
    thread: str,
    unsubscribe_url: str,
    reply_to: str | None = None,
) -> EmailMessage:
    """The email, with a plain-text part and an HTML alternative. Raises
    ``ValueError`` if ``to`` or ``reply_to`` is not a single valid address."""
    message = EmailMessage(policy=EMAIL_POLICY)
    message["From"] = sender
    message["To"] = _address(to)
    if reply_to is not None:
        message["Reply-To"] = _address(reply_to)
    message["Subject"] = one_line(rendered.subject, 200)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = one_line(message_id, 250)
    message["In-Reply-To"] = one_line(thread, 250)
    message["References"] = one_line(thread, 250)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["List-Unsubscribe"] = f"<{one_line(unsubscribe_url, 2000)}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return message


def _address(value: str) -> Address:
    if one_line(value, 400) != value or value.count("@") != 1:
        raise ValueError("not a single e-mail address")
    address = Address(addr_spec=value)
    if not address.username or not address.domain:
        raise ValueError("not a single e-mail address")
    return address
