"""Reply by email, the inbound half: a reply to an away email posts into the chat.

Modules:

* :mod:`~notifier.inbound.tokens` signed, expiring reply addresses
  (``reply+<token>@<CHAT_REPLY_DOMAIN>``) and the ``ReplyAddress`` hook of
  :func:`notifier.wiring.build_notifier`
* :mod:`~notifier.inbound.parse` raw RFC 822 -> the reply text (limits, HTML
  sanitised, quoted history and signature stripped); pure
* :mod:`~notifier.inbound.checks` auto-replies, bounces, loops, sender; pure
* :mod:`~notifier.inbound.service` ``InboundReplies.handle``: checks, then
  posts as the recipient, once per Message-ID
* :mod:`~notifier.inbound.listener` the SMTP edge (``aiosmtpd``);
  :mod:`~notifier.inbound.webhook` the HTTP edge for a provider's inbound hook
* ``python -m notifier.inbound --smtp-port 2525 --http-port 8025`` serves both
"""

from notifier.inbound.config import InboundSettings
from notifier.inbound.service import InboundReplies, Outcome
from notifier.inbound.tokens import ReplyAddresses

__all__ = ["InboundReplies", "InboundSettings", "Outcome", "ReplyAddresses"]
