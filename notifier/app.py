"""The Celery app of the notifier: ``make_celery(settings)``.

Redis is the broker (``CHAT_REDIS_URL``); tasks acknowledge late and are
re-queued if their worker dies, so each task must be idempotent (they are:
see :mod:`notifier.delivery`). Only JSON crosses the broker, and results are
not kept. Beat runs ``notifier.tasks.dispatch_due`` and
``notifier.tasks.send_staff_emails`` (quote requests to the marketplace's
staff address) every ``CHAT_DISPATCH_INTERVAL_SECONDS`` (15 s). Creating the app connects to
nothing; ``notifier.worker`` is the entry module for the ``celery`` command.
"""

from __future__ import annotations

from typing import Any

from celery import Celery  # type: ignore[import-untyped]
from celery.schedules import crontab  # type: ignore[import-untyped]

from chat_service.config import Settings
from notifier.config import NotifierSettings

__all__ = ["make_celery", "settings_of"]


def make_celery(
    settings: Settings | None = None, notifier_settings: NotifierSettings | None = None
) -> Any:
    """A Celery app for ``settings`` (read from ``CHAT_*`` variables when omitted)."""
    settings = settings or Settings()
    notifier_settings = notifier_settings or NotifierSettings(environment=settings.environment)
    app = Celery("notifier", broker=settings.redis_url, include=["notifier.tasks"])
    interval = notifier_settings.dispatch_interval_seconds
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A task unacknowledged this long is handed to another worker; longer
        # than the longest retry wait, and sends stay safe (leases in the store).
        broker_transport_options={
            "visibility_timeout": int(notifier_settings.retry_max_seconds) + 600,
            "global_keyprefix": f"{settings.redis_prefix}:celery:",
        },
        beat_schedule={
            "deliver-webhooks": {
                "task": "notifier.tasks.deliver_webhooks",
                "schedule": 10.0,
                "options": {"expires": 10},
            },
            "dispatch-due-away-emails": {
                "task": "notifier.tasks.dispatch_due",
                "schedule": interval,
                # A tick that could not run in time is replaced by the next one.
                "options": {"expires": interval},
            },
            "send-staff-emails": {
                "task": "notifier.tasks.send_staff_emails",
                "schedule": interval,
                "options": {"expires": interval},
            },
            "purge-retention-daily": {
                "task": "notifier.tasks.purge_retention",
                "schedule": crontab(hour=3, minute=17),
                # A missed night is caught up by the next one; never two queued.
                "options": {"expires": 6 * 3600},
            },
        },
    )
    app.chat_settings = (settings, notifier_settings)
    return app


def settings_of(app: Any) -> tuple[Settings, NotifierSettings]:
    found: tuple[Settings, NotifierSettings] = app.chat_settings
    return found
