"""Claim -> gate -> render -> send -> mark: the away-email pipeline, without Celery.

Exactly once, or rather *at most once* per message and recipient:

1. ``dispatch_due`` claims a due notification with one atomic
   ``find_one_and_update`` (``pending -> claimed`` with a fresh ``claim_id``
   and a lease); two dispatchers never claim the same one.
2. ``deliver(nid, claim_id)`` runs the gate, then moves ``claimed ->
   sending`` conditionally on that ``claim_id``, storing a fresh
   ``attempt_id``, the batch's last ``seq`` and the ``Message-ID`` *before*
   any byte goes to SMTP. A duplicate task (late ack, redelivery) loses that
   race and sends nothing.
3. After SMTP accepted the email, ``sending -> idle`` conditionally on the
   ``attempt_id``, raising ``settled_through_seq`` with ``$max``; the next
   email of that conversation starts after it.

Right before SMTP ``DATA`` (the first moment the server holds something it
could deliver) ``sending`` gets ``data_started_at``, conditionally on the
``attempt_id``. A crash between 2 and 3 leaves ``sending`` with a lease:

* without ``data_started_at`` the server never had the email: when the lease
  lapses it goes back to ``claimed`` and is sent again, once;
* with it, whether SMTP got the email is unknown, so nobody resends it: the
  notification is settled as ``uncertain`` (logged, counted) and the batch is
  never emailed again. The trade-off: an email lost in that small window
  (the DATA exchange; the messages are still in the chat, unread) rather than
  one sent twice.
Failures known to have sent nothing (connect errors, 4xx) go back to
``claimed`` and are retried with backoff; 5xx and giving up are recorded
on the notification (``outcome``, ``last_error``) and never retried.
"""

from __future__ import annotations

import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from chat_service.clock import Clock
from chat_service.notifications.repository import NotificationRepository
from chat_service.notifications.tokens import NotificationTokens
from notifier.compose import Composer
from notifier.config import NotifierSettings
from notifier.errors import PermanentMailError, TransientMailError, UncertainMailError
from notifier.gate import Batch, Gate, Skip
from notifier.types import MailSender

__all__ = ["MAX_CLAIMS", "AwayNotifier", "Claim", "Outcome", "retry_delay"]

log = logging.getLogger(__name__)

# A notification whose claim lapsed this often (its task kept dying) is dropped.
MAX_CLAIMS = 5
Status = Literal["sent", "skipped", "duplicate", "in_flight", "retry", "failed", "uncertain"]


@dataclass(frozen=True)
class Claim:
    notification_id: str
    claim_id: str


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str = ""
    retry_in: float = 0.0


def retry_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with full jitter: uniform in [base/2, min(cap, base * 2**attempt)]."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    # Jitter spreads retries out; it needs no cryptographic randomness.
    return (rng or random).uniform(min(base / 2, ceiling), ceiling)


class AwayNotifier:
    def __init__(
        self,
        *,
        repository: NotificationRepository,
        gate: Gate,
        composer: Composer,
        sender: MailSender,
        tokens: NotificationTokens,
        settings: NotifierSettings,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self._repo = repository
        self._gate = gate
        self._composer = composer
        self._sender = sender
        self._tokens = tokens
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not secrets)

    def _lease(self, extra: float = 0.0) -> datetime:
        return self._clock.now() + timedelta(seconds=self._settings.claim_lease_seconds + extra)

    async def dispatch_due(self, limit: int | None = None) -> list[Claim]:
        """Settle sends whose worker vanished, then claim due notifications."""
        now = self._clock.now()
        most = limit or self._settings.dispatch_batch
        for lapsed in await self._repo.lapsed_sending(now, most):
            await self._recover(lapsed, "lease_lapsed")
        claims: list[Claim] = []
        while len(claims) < most:
            claim_id = secrets.token_hex(8)
            doc = await self._repo.claim_due(now, claim_id, self._lease())
            if doc is None:
                break
            claims.append(Claim(doc["_id"], claim_id))
        return claims

    async def deliver(self, nid: str, claim_id: str, *, attempt: int = 0) -> Outcome:
        """Run one claimed notification to its end (``attempt`` counts retries)."""
        doc = await self._repo.get(nid)
        if doc is None or doc.get("claim_id") != claim_id:
            return Outcome("duplicate")
        if doc["state"] == "sending":
            # Redelivered after a crash mid-send: once the lease lapsed, resend only
            # when the crash came before DATA (the dispatcher claims it again).
            if doc["lease_until"] <= self._clock.now():
                if await self._recover(doc, "redelivered_after_crash"):
                    return Outcome("retry", "crashed_before_data", retry_in=0.0)
                return Outcome("uncertain", "redelivered_after_crash")
            return Outcome("in_flight")
        if doc["state"] != "claimed":
            return Outcome("duplicate")
        owner = {"state": "claimed", "claim_id": claim_id}
        if int(doc.get("claims") or 0) > MAX_CLAIMS:
            # Claimed again and again without ever finishing: a poison notification.
            # Settled through the whole log, or the follow-up would reopen it.
            through = await self._gate.last_seq(doc)
            await self._finish(doc, owner, through, _failed("too_many_claims"))
            log.error("away email %s dropped after %s claims", nid, doc.get("claims"))
            return Outcome("failed", "too_many_claims")
        verdict = await self._gate.check(doc)
        if isinstance(verdict, Skip):
            await self._finish(doc, owner, verdict.through_seq, {"outcome": verdict.reason})
            return Outcome("skipped", verdict.reason)
        return await self._send(doc, claim_id, verdict, attempt)

    async def _send(
        self, doc: dict[str, Any], claim_id: str, batch: Batch, attempt: int
    ) -> Outcome:
        nid, now = doc["_id"], self._clock.now()
        attempt_id = secrets.token_hex(8)
        message_id = self._composer.message_id(attempt_id)
        owner = {"state": "sending", "attempt_id": attempt_id}
        began = await self._repo.begin_send(
            nid,
            claim_id,
            {
                "attempt_id": attempt_id,
                "email_message_id": message_id,
                "batch_through_seq": batch.through_seq,
                "lease_until": self._lease(),
                "updated_at": now,
            },
        )
        if not began:
            return Outcome("duplicate")
        try:
            email = await self._composer.compose(doc, batch, message_id=message_id)
        except ValueError:  # the stored address is not a single valid address
            await self._finish(doc, owner, batch.through_seq, _failed("bad_address"))
            return Outcome("failed", "bad_address")

        async def before_data() -> None:
            if not await self._repo.mark_data_started(nid, attempt_id, self._clock.now()):
                raise TransientMailError("lost_claim")  # another worker took over

        try:
            await self._sender.send(
                email,
                sender=self._composer.envelope_from,
                recipient=batch.email,
                before_data=before_data,
            )
        except PermanentMailError as exc:
            await self._finish(doc, owner, batch.through_seq, _failed(exc.reason))
            log.warning("away email %s refused for good: %s", nid, exc.reason)
            return Outcome("failed", exc.reason)
        except UncertainMailError as exc:
            await self._finish(doc, owner, batch.through_seq, {"outcome": "uncertain"})
            log.warning("away email %s outcome unknown (%s); not resent", nid, exc.reason)
            return Outcome("uncertain", exc.reason)
        except TransientMailError as exc:
            if attempt >= self._settings.send_max_retries:
                await self._finish(doc, owner, batch.through_seq, _failed(f"gave up: {exc.reason}"))
                return Outcome("failed", f"gave up: {exc.reason}")
            delay = retry_delay(
                attempt,
                base=self._settings.retry_base_seconds,
                cap=self._settings.retry_max_seconds,
                rng=self._rng,
            )
            # The claim outlives the wait, so no dispatcher takes it meanwhile.
            fields = {"lease_until": self._lease(delay), "last_error": exc.reason}
            await self._repo.release(nid, owner, fields)
            log.info("away email %s deferred %.0fs: %s", nid, delay, exc.reason)
            return Outcome("retry", exc.reason, retry_in=delay)
        sent = await self._repo.mark_emailed(
            nid,
            attempt_id,
            batch.through_seq,
            {"outcome": "sent", "last_sent_at": now, "mode": batch.mode},
        )
        if sent:
            await self._follow_up(doc)
        return Outcome("sent")

    async def _recover(self, doc: dict[str, Any], why: str) -> bool:
        """A send whose worker vanished: back to ``claimed`` (returns True) when
        it died before DATA, otherwise settled as ``uncertain``."""
        if doc.get("data_started_at") is None:
            owner = {"state": "sending", "attempt_id": doc["attempt_id"]}
            fields = {"lease_until": self._clock.now(), "last_error": f"{why}_before_data"}
            if await self._repo.release(doc["_id"], owner, fields):
                log.warning("away email %s lost before DATA (%s); sending again", doc["_id"], why)
                return True
            return False
        await self._settle_uncertain(doc, why)
        return False

    async def _settle_uncertain(self, doc: dict[str, Any], why: str) -> None:
        owner = {"state": "sending", "attempt_id": doc["attempt_id"]}
        through = int(doc.get("batch_through_seq") or 0)
        await self._finish(doc, owner, through, {"outcome": "uncertain", "last_error": why})
        log.warning("away email %s outcome unknown (%s); not resent", doc["_id"], why)

    async def _finish(
        self, doc: dict[str, Any], owner: dict[str, Any], through: int, fields: dict[str, Any]
    ) -> None:
        fields = {**fields, "updated_at": self._clock.now()}
        if await self._repo.settle(doc["_id"], owner, through, fields):
            await self._follow_up(doc)

    async def _follow_up(self, doc: dict[str, Any]) -> None:
        """Open a new window for messages that arrived while a worker held the
        notification (``schedule`` leaves a held notification alone)."""
        fresh = await self._repo.get(doc["_id"])
        if fresh is None or fresh["state"] != "idle":
            return
        left = await self._gate.unsettled(fresh)
        if left is None:
            return
        policy = await self._gate.policy_of(doc["tenant"])
        delay = policy.email.delay_seconds if policy is not None else 120
        start = min(left["created_at"], self._clock.now())
        await self._repo.schedule(
            {k: doc[k] for k in ("_id", "tenant", "conv", "user")},
            start + timedelta(seconds=delay),
        )


def _failed(reason: str) -> dict[str, Any]:
    return {"outcome": "failed", "last_error": reason}
