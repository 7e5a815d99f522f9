"""Quote statuses, the actions that move between them, and who takes each.

::

    status \\ action  respond    counter    accept     decline    withdraw   expire     convert
    ---------------  ---------  ---------  ---------  ---------  ---------  ---------  ---------
    requested        responded  -          -          declined*  withdrawn  -          -
    responded        responded  countered  accepted   declined   withdrawn  expired    -
    countered        responded  countered  accepted   declined   withdrawn  expired    -
    accepted         -          -          -          -          -          -          converted
    declined, withdrawn, expired, converted: final

    taken by         seller     either     buyer      either     buyer      server     server
                                                      (* seller only while requested)

The cells are necessary, not sufficient; :mod:`chat_service.quotes.revisions`
adds the conditions that depend on revisions:

* ``respond`` is the seller's priced offer (a revision with a ``valid_until``);
  a seller may respond again to replace its own offer before the buyer acts.
* ``counter`` needs an earlier revision to answer; the buyer's counter
  proposes prices, and the seller answers it with a response or counter.
* ``accept`` names the latest revision, which must be the seller's and not
  expired; the buyer accepts, never the seller.
* ``expire`` happens when the latest revision is the seller's and its
  ``valid_until`` has passed (the beat job calls ``expire_if_due``).
* ``convert`` (to a sales order or invoice) is the marketplace backend's.

"server" is the marketplace backend. It may take any side's action on that
side's behalf; for ``counter`` and ``decline``, which either side may take,
it must say which side it acts for.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal

from chat_service.quotes.errors import IllegalQuoteAction

__all__ = [
    "ACTIONS",
    "ALLOWED",
    "SIDES",
    "TERMINAL",
    "ActorRole",
    "QuoteAction",
    "QuoteStatus",
    "Side",
    "check_action",
]

ActorRole = Literal["buyer", "seller", "server"]
Side = Literal["buyer", "seller"]


class QuoteStatus(StrEnum):
    REQUESTED = "requested"
    RESPONDED = "responded"
    COUNTERED = "countered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    CONVERTED = "converted"


class QuoteAction(StrEnum):
    RESPOND = "respond"
    COUNTER = "counter"
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    CONVERT = "convert"


_S = QuoteStatus
_A = QuoteAction
_NEGOTIATING: Final[Mapping[QuoteAction, QuoteStatus]] = MappingProxyType(
    {
        _A.RESPOND: _S.RESPONDED,
        _A.COUNTER: _S.COUNTERED,
        _A.ACCEPT: _S.ACCEPTED,
        _A.DECLINE: _S.DECLINED,
        _A.WITHDRAW: _S.WITHDRAWN,
        _A.EXPIRE: _S.EXPIRED,
    }
)
_NONE: Final[Mapping[QuoteAction, QuoteStatus]] = MappingProxyType({})

ACTIONS: Final[Mapping[QuoteStatus, Mapping[QuoteAction, QuoteStatus]]] = MappingProxyType(
    {
        _S.REQUESTED: MappingProxyType(
            {_A.RESPOND: _S.RESPONDED, _A.DECLINE: _S.DECLINED, _A.WITHDRAW: _S.WITHDRAWN}
        ),
        _S.RESPONDED: _NEGOTIATING,
        _S.COUNTERED: _NEGOTIATING,
        _S.ACCEPTED: MappingProxyType({_A.CONVERT: _S.CONVERTED}),
        _S.DECLINED: _NONE,
        _S.WITHDRAWN: _NONE,
        _S.EXPIRED: _NONE,
        _S.CONVERTED: _NONE,
    }
)
"""status -> {action: resulting status}: the table in the module docstring."""

ALLOWED: Final[Mapping[QuoteStatus, frozenset[QuoteStatus]]] = MappingProxyType(
    {status: frozenset(moves.values()) for status, moves in ACTIONS.items()}
)
"""status -> the statuses it can move to: the graph every quote stays inside."""

TERMINAL: Final = frozenset(status for status, moves in ACTIONS.items() if not moves)

SIDES: Final[Mapping[QuoteAction, frozenset[Side]]] = MappingProxyType(
    {
        _A.RESPOND: frozenset({"seller"}),
        _A.COUNTER: frozenset({"buyer", "seller"}),
        _A.ACCEPT: frozenset({"buyer"}),
        _A.DECLINE: frozenset({"buyer", "seller"}),
        _A.WITHDRAW: frozenset({"buyer"}),
        _A.EXPIRE: frozenset(),
        _A.CONVERT: frozenset(),
    }
)
"""action -> the sides that may take it; an empty set means the server only."""


def check_action(status: QuoteStatus, action: QuoteAction, *, hint: str = "") -> QuoteStatus:
    """The status ``action`` leads to from ``status``, or :class:`IllegalQuoteAction`."""
    moves = ACTIONS[status]
    if action not in moves:
        possible = (move.value for move in moves if move is not QuoteAction.EXPIRE)
        raise IllegalQuoteAction(status.value, action.value, possible, hint)
    return moves[action]
