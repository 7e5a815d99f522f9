"""Sending recorded events: claim, sign, POST, and retry or give up.

:meth:`WebhookDispatcher.deliver_due` (run by the notifier's beat every few
seconds) claims due deliveries one at a time with a lease and sends them with
bounded concurrency; :meth:`WebhookDispatcher.deliver` sends one now.

* A 2xx answer is success. Anything else (another status, a redirect — they
  are never followed — a timeout, a refused connection, a URL the SSRF guard
  refuses) is a failed attempt: retried after an exponential backoff with
  jitter, and after ``max_attempts`` the delivery is ``failed``.
* Every failed attempt adds one to the tenant's ``consecutive_failures``;
  a success resets it. When it reaches ``alert_after``, one alert email goes
  to the configured address (once per streak: the claim is in the store).
* A worker that dies mid-delivery leaves the delivery to be taken again when
  its lease lapses, so an event may arrive twice: receivers deduplicate on
  ``X-Chat-Delivery`` (the event id). Response bodies are never read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from chat_service.clock import Clock
from chat_service.errors import ChatError
from chat_service.webhooks.service import WebhookService
from chat_service.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    sign,
)
from chat_service.webhooks.targets import check_addresses, check_url, resolve

__all__ = ["AlertSender", "DispatchLimits", "WebhookDispatcher", "backoff_seconds"]

log = logging.getLogger(__name__)
Doc = dict[str, Any]
# (to, subject, text): sends the failure alert email; supplied by the notifier.
AlertSender = Callable[[str, str, str], Awaitable[None]]
USER_AGENT = "marketplace-chat-webhooks/1"


@dataclass(frozen=True)
class DispatchLimits:
    max_attempts: int = 8
    base_seconds: float = 30.0
    max_backoff_seconds: float = 6 * 3600.0
    timeout_seconds: float = 10.0
    # A claimed delivery is taken again after this long (longer than a send).
    lease_seconds: float = 120.0
    alert_after: int = 5
    batch: int = 100
    concurrency: int = 8


def backoff_seconds(attempts: int, limits: DispatchLimits, rng: random.Random) -> float:
    """Wait before attempt ``attempts + 1``: base * 2^(attempts-1), capped, then
    between half and all of it ("equal jitter", so retries of many
    deliveries spread out)."""
    ceiling = min(limits.max_backoff_seconds, limits.base_seconds * 2.0 ** max(attempts - 1, 0))
    return ceiling / 2 + rng.random() * ceiling / 2


def body_of(delivery: Doc) -> bytes:
    event = {
        "id": delivery["event_id"],
        "type": delivery["event_type"],
        "created_at": delivery["created_at"].isoformat(),
        "data": delivery["payload"],
    }
    return json.dumps(event, separators=(",", ":"), sort_keys=True, default=str).encode()


@dataclass(frozen=True)
class _Attempt:
    ok: bool
    status_code: int | None
    error: str | None


class WebhookDispatcher:
    def __init__(
        self,
        webhooks: WebhookService,
        clock: Clock,
        *,
        alert: AlertSender | None = None,
        limits: DispatchLimits | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._webhooks = webhooks
        self._repo = webhooks.repository
        self._clock = clock
        self._alert = alert
        self._limits = limits or DispatchLimits()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._lease = timedelta(seconds=self._limits.lease_seconds)

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Send up to ``batch`` due deliveries; returns how many were attempted.
        Each of ``concurrency`` workers claims its next delivery only when it
        is ready to send it, so a lease never lapses while a claim waits."""
        now = now or self._clock.now()
        budget = self._limits.batch
        done = 0

        async def worker(client: httpx.AsyncClient) -> None:
            nonlocal budget, done
            while budget > 0:
                budget -= 1
                claim_id = secrets.token_hex(8)
                lease = max(now, self._clock.now()) + self._lease
                doc = await self._repo.claim_due(now, claim_id, lease)
                if doc is None:
                    return
                await self._attempt(client, doc, claim_id)
                done += 1

        async with self._client() as client:
            await asyncio.gather(*(worker(client) for _ in range(self._limits.concurrency)))
        return done

    async def deliver(self, delivery_id: str) -> Doc | None:
        """Send one pending delivery now (unless another worker holds it);
        returns the delivery as stored afterwards."""
        now = self._clock.now()
        claim_id = secrets.token_hex(8)
        doc = await self._repo.claim_one(delivery_id, now, claim_id, now + self._lease)
        if doc is not None:
            async with self._client() as client:
                await self._attempt(client, doc, claim_id)
        return await self._repo.get_delivery(delivery_id)

    # -- internals -----------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(self._limits.timeout_seconds),
            trust_env=False,  # no proxies from the environment
            headers={"User-Agent": USER_AGENT},
        )

    async def _attempt(self, client: httpx.AsyncClient, delivery: Doc, claim_id: str) -> None:
        tenant = delivery["tenant"]
        config = await self._repo.get_config(tenant)
        if config is None or not config["enabled"]:
            await self._finish(delivery, claim_id, _Attempt(False, None, "webhook disabled"), True)
            return
        try:
            result = await self._post(client, delivery, config)
        except Exception as error:  # a loop boundary: one delivery never stops the batch
            log.exception("webhook delivery %s failed unexpectedly", delivery["_id"])
            result = _Attempt(False, None, f"internal error: {type(error).__name__}")
        await self._finish(delivery, claim_id, result, False)
        if result.ok:
            await self._repo.reset_failures(tenant)
        else:
            await self._count_failure(tenant, result)

    async def _post(self, client: httpx.AsyncClient, delivery: Doc, config: Doc) -> _Attempt:
        now = self._clock.now()
        try:
            url = check_url(config["url"], self._webhooks.environment)
            check_addresses(await resolve(url), self._webhooks.environment)
        except ChatError as error:
            return _Attempt(False, None, f"refused: {error.detail}"[:300])
        try:
            secrets_ = await self._webhooks.signing_secrets(config, now)
        except ChatError as error:  # e.g. its data key was shredded: rotate the secret
            return _Attempt(False, None, f"signing secret unreadable ({error.code}); rotate it")
        body = body_of(delivery)
        timestamp = int(now.timestamp())
        signatures = ",".join(f"v1={sign(s, timestamp, body)}" for s in secrets_)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: f"t={timestamp},{signatures}",
            EVENT_HEADER: delivery["event_type"],
            DELIVERY_HEADER: delivery["event_id"],
        }
        try:
            # httpx's timeout is per phase; this bounds the whole request too.
            async with asyncio.timeout(self._limits.timeout_seconds * 2):
                async with client.stream("POST", url, content=body, headers=headers) as response:
                    code = response.status_code
        except (httpx.TimeoutException, TimeoutError):
            return _Attempt(False, None, "timeout")
        except httpx.HTTPError as error:
            return _Attempt(False, None, f"connection failed: {type(error).__name__}")
        if 200 <= code < 300:
            return _Attempt(True, code, None)
        return _Attempt(False, code, f"HTTP {code}")

    async def _finish(self, delivery: Doc, claim_id: str, result: _Attempt, final: bool) -> None:
        now = self._clock.now()
        attempts = delivery["attempts"] + 1
        fields: Doc = {
            "last_error": result.error,
            "last_status_code": result.status_code,
            "updated_at": now,
        }
        # A finished delivery keeps its log fields only (data minimisation).
        if result.ok:
            fields |= {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
            fields["payload"] = None
        elif final or attempts >= self._limits.max_attempts:
            fields |= {"status": "failed", "next_attempt_at": None, "payload": None}
        else:
            wait = backoff_seconds(attempts, self._limits, self._rng)
            fields["next_attempt_at"] = now + timedelta(seconds=wait)
        if not await self._repo.finish_attempt(delivery["_id"], claim_id, fields):
            log.warning("webhook delivery %s: lease lost before finishing", delivery["_id"])

    async def _count_failure(self, tenant: str, result: _Attempt) -> None:
        config = await self._repo.count_failure(tenant)
        if config is None or self._alert is None:
            return
        if config["consecutive_failures"] < self._limits.alert_after:
            return
        now = self._clock.now()
        claimed = await self._repo.claim_alert(tenant, self._limits.alert_after, now)
        if claimed is None:
            return  # sent already in this streak, or another worker is sending it
        address = await self._webhooks.alert_address(claimed)
        if address is None:
            return  # nobody to tell; recorded as handled for this streak
        host = httpx.URL(claimed["url"]).host
        subject = "Webhook deliveries are failing"
        text = (
            f"The chat service could not deliver events to your webhook at {host}: "
            f"{claimed['consecutive_failures']} attempts in a row failed "
            f"(last: {result.error}). Deliveries are retried with backoff; "
            "see GET /v1/webhook/deliveries for the delivery log."
        )
        try:
            await self._alert(address, subject, text)
        except Exception:  # the alert is best effort; allow the next failure to retry it
            log.exception("webhook failure alert for tenant %s not sent", tenant)
            await self._repo.release_alert(tenant, claimed["alert_sent_at"])
