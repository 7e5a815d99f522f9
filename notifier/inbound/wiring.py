"""Building the inbound half from the core's services and the settings.

``reply_addresses(services, inbound)`` is also what the away-email worker
passes to ``build_notifier(..., reply_address=...)``.
"""

from __future__ import annotations

from chat_service.services import Services
from notifier.config import NotifierSettings
from notifier.inbound.config import InboundSettings
from notifier.inbound.parse import ParseLimits
from notifier.inbound.service import InboundReplies
from notifier.inbound.tokens import ReplyAddresses, ReplyTokens

__all__ = ["build_inbound", "reply_addresses"]


def reply_addresses(services: Services, inbound: InboundSettings) -> ReplyAddresses:
    core = services.settings
    return ReplyAddresses(
        services.stores.db,
        ReplyTokens(core.kek_map(), core.primary_version()),
        services.clock,
        domain=inbound.reply_domain,
        ttl_seconds=inbound.reply_token_ttl_seconds,
    )


def build_inbound(
    services: Services, inbound: InboundSettings, outbound: NotifierSettings
) -> InboundReplies:
    return InboundReplies(
        db=services.stores.db,
        addresses=reply_addresses(services, inbound),
        conversations=services.conversations,
        attachments=services.attachments,
        email_of=services.users.email_of,
        policies=services.policies.current,
        clock=services.clock,
        limits=ParseLimits(
            max_bytes=inbound.inbound_max_bytes,
            max_parts=inbound.inbound_max_parts,
            max_depth=inbound.inbound_max_depth,
            max_headers=inbound.inbound_max_headers,
            max_text_chars=inbound.inbound_max_text_chars,
        ),
        own_addresses=[outbound.sender().addr_spec],
        own_domains=[inbound.reply_domain],
        max_message_chars=services.settings.max_message_chars,
    )
