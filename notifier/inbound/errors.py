"""Errors of the inbound half::

NotifierError                  (notifier.errors)
└── InboundError
    ├── Refused                the email is refused for good (SMTP 5xx); ``reason``
    │                          is a stable code: token_invalid, token_expired,
    │                          too_large, too_many_parts, too_deep, malformed, ...
    └── InboundUnavailable     the store or Redis is down: try again (SMTP 451)
"""

from __future__ import annotations

from notifier.errors import NotifierError

__all__ = ["InboundError", "InboundUnavailable", "Refused"]


class InboundError(NotifierError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(InboundError):
    pass


class InboundUnavailable(InboundError):
    pass
