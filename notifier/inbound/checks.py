"""Which inbound emails are replies by a person, and from the right person; pure.

RFC 3834 and common practice: anything automatic is accepted and discarded
(never answered, never posted), so no two robots can loop through the chat.
Each function returns a stable reason code, or ``None`` when the email passes.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from notifier.inbound.parse import ParsedMail

__all__ = ["automatic_reason", "sender_reason"]

_AUTO_SUBJECT = re.compile(
    r"(?i)^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|"
    r"away from (my|the) (office|desk)|on vacation|vacation reply|abwesenheit|"
    r"undeliverable|undelivered mail|delivery status notification|"
    r"mail delivery (failed|failure|subsystem)|returned mail)"
)
_BULK_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
_DAEMONS = ("mailer-daemon@", "postmaster@")


def automatic_reason(
    mail: ParsedMail,
    *,
    envelope_sender: str | None,
    own_addresses: Collection[str],
    own_domains: Collection[str] = (),
) -> str | None:
    """Why ``mail`` is not a person's reply: ``bounce``, ``auto_reply``, ``bulk``,
    ``mailing_list``, ``own_address``; ``None`` if it is one."""
    headers = mail.headers
    sender = (envelope_sender or "").strip().strip("<>").lower()
    from_address = (mail.from_address or "").lower()
    if envelope_sender is not None and sender == "":
        return "bounce"  # null reverse-path: MAIL FROM:<> (RFC 5321 4.5.5)
    return_path = headers.get("return-path")
    if return_path is not None and return_path.strip().strip("<>").strip() == "":
        return "bounce"
    if any(a.startswith(_DAEMONS) for a in (sender, from_address)):
        return "bounce"
    if mail.content_type == "multipart/report":
        return "bounce"
    if headers.get("x-failed-recipients"):
        return "bounce"
    own = {a.lower() for a in own_addresses}
    domains = tuple(f"@{d.lower()}" for d in own_domains)
    if from_address in own or sender in own or (domains and from_address.endswith(domains)):
        return "own_address"
    auto = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return "auto_reply"
    if any(h in headers for h in ("x-autoreply", "x-autorespond", "x-autoresponder")):
        return "auto_reply"
    if _AUTO_SUBJECT.match(mail.subject):
        return "auto_reply"
    if headers.get("precedence", "").strip().lower() in _BULK_PRECEDENCE:
        return "bulk"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "mailing_list"
    return None


def sender_reason(mail: ParsedMail, expected: str | None) -> str | None:
    """``sender_mismatch`` unless From holds exactly one address equal
    (ignoring case) to the recipient's known address."""
    if expected is None or mail.from_address is None:
        return "sender_mismatch"
    if mail.from_address.strip().casefold() != expected.strip().casefold():
        return "sender_mismatch"
    return None
