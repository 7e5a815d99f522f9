"""Sending seller quick actions: who may send them and how they are logged.

The payload rules live in :mod:`chat_service.conversations.actions`; this
module checks that the sender is the conversation's seller, masks contact
details in the free text as the marketplace policy says, and appends the
entry through the same writer as text messages (sealed, idempotent on
``client_msg_id``, published to subscribers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from chat_service.auth.principals import UserPrincipal
from chat_service.conversations.actions import action_to_stored, mask_action, parse_action
from chat_service.conversations.writing import MessageWriter, PolicySource, SendResult
from chat_service.errors import Forbidden
from policies import mask_contact_details

__all__ = ["SellerActions"]

AccessCheck = Callable[[UserPrincipal, str], Awaitable[dict[str, Any]]]


def role_in(conv: dict[str, Any], user_id: str) -> str | None:
    """The role ``user_id`` has in this conversation (not the token's claim)."""
    return next((p["role"] for p in conv["participants"] if p["user_id"] == user_id), None)


class SellerActions:
    def __init__(self, access: AccessCheck, writer: MessageWriter, policies: PolicySource) -> None:
        self._access = access
        self._writer = writer
        self._policies = policies

    async def send(
        self, user: UserPrincipal, conv_id: str, *, client_msg_id: str, action: object
    ) -> SendResult:
        """Log one quick action; ``not_found`` for a conversation the user is not
        in, ``role_not_allowed`` unless they are its seller, then the payload's
        own codes (``unknown_action``, ``invalid_action``, ``action_too_large``)."""
        conv = await self._access(user, conv_id)
        if role_in(conv, user.user_id) != "seller":
            raise Forbidden("only the seller may send quick actions", code="role_not_allowed")
        payload = parse_action(action)
        policy = await self._policies(conv["tenant"])
        payload = mask_action(payload, lambda text: mask_contact_details(text, policy).text)
        return await self._writer.append(
            conv,
            sender=user.user_id,
            kind="action",
            client_msg_id=client_msg_id,
            text=action_to_stored(payload),
        )
