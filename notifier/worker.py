"""Entry module for the Celery command: ``celery -A notifier.worker worker``
and ``celery -A notifier.worker beat``; settings come from ``CHAT_*``."""

from __future__ import annotations

from notifier.app import make_celery

__all__ = ["app"]

app = make_celery()
