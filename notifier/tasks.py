"""Celery tasks: thin shells around :class:`notifier.delivery.AwayNotifier`.

``dispatch_due`` (run by beat) claims due notifications and enqueues one
``send_away_email`` per claim. ``send_away_email`` is idempotent: a
duplicate or redelivered task finds the claim taken and sends nothing.
Known-safe SMTP failures come back as ``retry`` with a backoff chosen by the
library; store or Redis outages are retried by Celery with backoff + jitter.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from celery import shared_task  # type: ignore[import-untyped]
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from notifier.app import settings_of
from notifier.runtime import runtime_for
from notifier.staff_emails import build_staff_emails
from notifier.webhook_alerts import build_webhook_dispatcher

__all__ = [
    "deliver_webhooks",
    "dispatch_due",
    "purge_retention",
    "send_away_email",
    "send_staff_emails",
]

_INFRA = (PyMongoError, RedisError, ConnectionError)


@shared_task(  # type: ignore[untyped-decorator]
    bind=True,
    name="notifier.tasks.dispatch_due",
    autoretry_for=_INFRA,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def dispatch_due(self: Any) -> int:
    runtime = runtime_for(self.app)
    claims = runtime.run(runtime.notifier.dispatch_due())
    send = self.app.tasks["notifier.tasks.send_away_email"]
    for claim in claims:
        # A claim whose message is lost here is taken again when its lease lapses.
        send.delay(claim.notification_id, claim.claim_id)
    return len(claims)


@shared_task(  # type: ignore[untyped-decorator]
    bind=True,
    name="notifier.tasks.send_away_email",
    autoretry_for=_INFRA,
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=20,
)
def send_away_email(self: Any, notification_id: str, claim_id: str) -> str:
    runtime = runtime_for(self.app)
    outcome = runtime.run(
        runtime.notifier.deliver(notification_id, claim_id, attempt=self.request.retries)
    )
    if outcome.status == "retry":
        # The library bounds the attempts; Celery's own cap must not cut in first.
        raise self.retry(countdown=outcome.retry_in, max_retries=None)
    return outcome.status


log = logging.getLogger(__name__)


@shared_task(  # type: ignore[untyped-decorator]
    bind=True,
    name="notifier.tasks.purge_retention",
    autoretry_for=_INFRA,
    retry_backoff=60,
    retry_jitter=True,
    max_retries=5,
)
def purge_retention(self: Any) -> dict[str, int]:
    """Daily: purge what is past retention in every tenant. Resumable and
    idempotent, so a retry or a redelivered task finishes what a lost one began."""
    runtime = runtime_for(self.app)
    report = runtime.run(runtime.services.retention.run())
    log.info("retention purge done: %s", report.summary())
    return asdict(report)


@shared_task(  # type: ignore[untyped-decorator]
    bind=True,
    name="notifier.tasks.deliver_webhooks",
    autoretry_for=_INFRA,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def deliver_webhooks(self: Any) -> int:
    """Send the due webhook deliveries of every marketplace (beat, every 10 s)."""
    runtime = runtime_for(self.app)
    services = runtime.services
    dispatcher = build_webhook_dispatcher(
        services.webhooks, services.clock, settings_of(self.app)[1]
    )
    delivered: int = runtime.run(dispatcher.deliver_due())
    return delivered


@shared_task(  # type: ignore[untyped-decorator]
    bind=True,
    name="notifier.tasks.send_staff_emails",
    autoretry_for=_INFRA,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def send_staff_emails(self: Any) -> dict[str, int]:
    """Email each new quote request to its marketplace's staff address (beat).
    Each notification is claimed atomically, so overlapping runs send once."""
    runtime = runtime_for(self.app)
    staff = build_staff_emails(runtime.services, settings_of(self.app)[1])
    report = runtime.run(staff.send_pending())
    return asdict(report)
