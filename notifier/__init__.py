"""Away e-mail notifications and reply-by-email (Celery app and tasks).

Builds on ``chat_service``; lands with the away-notifier issue.
"""
