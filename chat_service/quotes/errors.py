"""Errors of the quotes domain, under the service's root in
:mod:`chat_service.errors`. Amount, currency and quantity errors come from
:mod:`chat_service.orders.errors` (``invalid_amount``, ``invalid_quantity``,
``unsupported_currency``, ``invalid_line_item``) because quotes describe and
price lines the same way orders do::

    ChatError
    ├── BadRequest                    400
    │   ├── InvalidOptions                invalid_options
    │   ├── InvalidPrices                 invalid_prices, missing_price, unknown_line
    │   ├── InvalidValidUntil             invalid_valid_until
    │   ├── InvalidNote                   invalid_note
    │   ├── InvalidConversion             invalid_conversion
    │   └── OnBehalfRequired              on_behalf_of_required
    ├── Forbidden                     403
    │   └── RoleNotAllowed                role_not_allowed
    ├── NotFound                      404
    │   └── UnknownRevision               unknown_revision
    ├── Conflict                      409
    │   ├── IllegalQuoteAction            illegal_transition
    │   ├── RevisionSuperseded            revision_superseded
    │   ├── OwnRevision                   cannot_accept_own_revision
    │   └── TooManyRevisions              too_many_revisions
    └── Gone                          410
        └── QuoteExpired                  quote_expired
"""

from __future__ import annotations

from collections.abc import Iterable

from chat_service.errors import BadRequest, Conflict, Forbidden, Gone, NotFound

__all__ = [
    "IllegalQuoteAction",
    "InvalidConversion",
    "InvalidNote",
    "InvalidOptions",
    "InvalidPrices",
    "InvalidValidUntil",
    "OnBehalfRequired",
    "OwnRevision",
    "QuoteExpired",
    "RevisionSuperseded",
    "RoleNotAllowed",
    "TooManyRevisions",
    "UnknownRevision",
]


class InvalidOptions(BadRequest):
    """Configuration options are str -> str, bounded in count and length."""

    code = "invalid_options"


class InvalidPrices(BadRequest):
    """A revision's prices must cover every line of the quote and nothing else."""

    code = "invalid_prices"


class InvalidValidUntil(BadRequest):
    code = "invalid_valid_until"


class InvalidNote(BadRequest):
    code = "invalid_note"


class InvalidConversion(BadRequest):
    code = "invalid_conversion"


class OnBehalfRequired(BadRequest):
    """The marketplace backend acts for a side; for actions either side may
    take it must say which."""

    code = "on_behalf_of_required"


class RoleNotAllowed(Forbidden):
    code = "role_not_allowed"


class UnknownRevision(NotFound):
    code = "unknown_revision"


class IllegalQuoteAction(Conflict):
    """The action is not possible in the quote's status. Shares the order
    machine's code, so clients handle one ``illegal_transition``."""

    code = "illegal_transition"

    def __init__(self, status: str, action: str, allowed: Iterable[str], hint: str = "") -> None:
        self.quote_status = status
        self.action = action
        self.allowed = tuple(sorted(allowed))
        if self.allowed:
            detail = (
                f"cannot {action} a quote that is {status}; possible now: {', '.join(self.allowed)}"
            )
        else:
            detail = f"cannot {action} a quote that is {status}; {status!r} is final"
        super().__init__(f"{detail} ({hint})" if hint else detail)


class RevisionSuperseded(Conflict):
    """A newer revision replaced the one named; the client should reload."""

    code = "revision_superseded"

    def __init__(self, revision: int, latest: int) -> None:
        self.revision = revision
        self.latest = latest
        super().__init__(f"revision {revision} was superseded by revision {latest}")


class OwnRevision(Conflict):
    code = "cannot_accept_own_revision"


class TooManyRevisions(Conflict):
    code = "too_many_revisions"


class QuoteExpired(Gone):
    code = "quote_expired"
