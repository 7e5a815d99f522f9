"""Errors of the notifier::

NotifierError
└── MailError                 sending one email failed
    ├── TransientMailError    nothing was delivered; retry later (connect, 4xx)
    ├── PermanentMailError    nothing was delivered; never retry (5xx)
    └── UncertainMailError    the server may have accepted it (dropped after DATA)
"""

from __future__ import annotations

__all__ = [
    "MailError",
    "NotifierError",
    "PermanentMailError",
    "TransientMailError",
    "UncertainMailError",
]


class NotifierError(Exception):
    """Root of every deliberate notifier error."""


class MailError(NotifierError):
    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TransientMailError(MailError):
    pass


class PermanentMailError(MailError):
    pass


class UncertainMailError(MailError):
    pass
