"""Recording away notifications when a message is stored, and e-mail preferences.

``PendingNotifications.schedule`` is called after a message is stored (on a
resend too: it is idempotent, so a resend repairs a schedule that failed).
It persists one pending document per (conversation, recipient) with
``due_at = time of the first unread message + the policy's delay``; a later
message never moves ``due_at`` (a fixed window). The notifier decides at due
time whether anything is still worth an email.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from chat_service.clock import Clock
from chat_service.conversations.schemas import MessagePublic
from chat_service.notifications.repository import (
    NotificationRepository,
    PreferenceRepository,
    notification_id,
)
from policies import Policy, email_content_mode

__all__ = ["NOTIFIED_KINDS", "EmailPreferences", "PendingNotifications"]

# Entries a person reads; edits and deletes change them but are not news.
NOTIFIED_KINDS = frozenset({"text", "system", "action"})
# When the policy cannot be read the delay still needs a value.
_FALLBACK_DELAY_SECONDS = 120


# A window this process opened is known to stay pending until shortly before
# its due time; within the margin the store is asked again (clock skew).
_KNOWN_PENDING_MARGIN = timedelta(seconds=30)
_KNOWN_PENDING_MAX = 50_000


class PendingNotifications:
    """Opens away-email windows. Remembers the windows it opened, so a busy
    conversation costs one store write per recipient per window, not per
    message: a pending notification cannot be claimed before its ``due_at``,
    and a message stored before then is seen by the gate that runs after the
    claim. The margin covers clocks of different processes that disagree."""

    def __init__(self, repository: NotificationRepository) -> None:
        self._repo = repository
        self._known: dict[str, datetime] = {}

    @property
    def repository(self) -> NotificationRepository:
        return self._repo

    async def schedule(
        self,
        conv: dict[str, Any],
        message: MessagePublic,
        recipients: Sequence[str] | None,
        policy: Policy | None,
        now: datetime,
    ) -> int:
        """Open (or keep) the window of each recipient; returns how many
        recipients were considered. ``recipients=None`` means every participant
        but the sender. Roles whose policy mode is ``off`` get nothing. The
        window starts at the message's own time (``now`` is only a floor for
        clocks that disagree), so a resend never moves it."""
        if message.kind not in NOTIFIED_KINDS or message.deleted:
            return 0
        roles = {p["user_id"]: p.get("role", "") for p in conv["participants"]}
        wanted = recipients if recipients is not None else list(roles)
        delay = policy.email.delay_seconds if isinstance(policy, Policy) else None
        due_at = min(message.created_at, now) + timedelta(
            seconds=delay if isinstance(delay, int) and delay >= 0 else _FALLBACK_DELAY_SECONDS
        )
        opening = [
            self._open_window(conv, user_id, message.created_at, due_at)
            for user_id in wanted
            if user_id != message.sender_id
            and user_id in roles
            and email_content_mode(policy, roles[user_id]) != "off"
        ]
        # Recipients are independent: one round trip of latency, not one each.
        await asyncio.gather(*opening)
        return len(opening)

    async def _open_window(
        self, conv: dict[str, Any], user_id: str, created_at: datetime, due_at: datetime
    ) -> None:
        nid = notification_id(conv["_id"], user_id)
        known = self._known.get(nid)
        if known is not None and created_at < known - _KNOWN_PENDING_MARGIN:
            return
        doc = {"_id": nid, "tenant": conv["tenant"], "conv": conv["_id"], "user": user_id}
        if await self._repo.schedule(doc, due_at):
            pending_until: datetime | None = due_at
        else:
            # Opened by another process (or held by a worker): remember its end
            # too when it is pending, or every message pays this write again.
            pending_until = await self._repo.pending_until(nid)
        if pending_until is not None:
            if len(self._known) >= _KNOWN_PENDING_MAX:
                self._known.clear()
            self._known[nid] = pending_until


class EmailPreferences:
    """Whether a person wants away emails; the one-click unsubscribe turns them off."""

    def __init__(self, repository: PreferenceRepository, clock: Clock) -> None:
        self._repo = repository
        self._clock = clock

    async def away_emails_enabled(self, tenant: str, user_id: str) -> bool:
        return await self._repo.away_emails(tenant, user_id)

    async def unsubscribe(self, tenant: str, user_id: str) -> None:
        await self._repo.set_away_emails(tenant, user_id, False, self._clock.now())

    async def resubscribe(self, tenant: str, user_id: str) -> None:
        await self._repo.set_away_emails(tenant, user_id, True, self._clock.now())
