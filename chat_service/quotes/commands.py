"""Quote actions as command objects, for callers that receive an action as
data (an API body, a chat button) and dispatch it with :func:`apply_action`.

Each command carries the input of one function in
:mod:`chat_service.quotes.revisions` or :mod:`chat_service.quotes.conversion`
and obeys exactly the same rules; ``Convert`` is the marketplace backend's
alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from chat_service.orders.money import AmountInput
from chat_service.quotes.conversion import Convert, convert
from chat_service.quotes.errors import RoleNotAllowed
from chat_service.quotes.models import DEFAULT_LIMITS, QuoteLimits, QuoteState
from chat_service.quotes.revisions import accept, counter, decline, respond, withdraw
from chat_service.quotes.states import ActorRole, Side

__all__ = [
    "Accept",
    "Convert",
    "Counter",
    "Decline",
    "QuoteCommand",
    "Respond",
    "Withdraw",
    "apply_action",
]

_PriceInput = Mapping[str, AmountInput]


@dataclass(frozen=True, slots=True)
class Respond:
    prices: _PriceInput
    valid_until: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Counter:
    prices: _PriceInput
    valid_until: datetime | None = None
    note: str | None = None
    on_behalf_of: Side | None = None


@dataclass(frozen=True, slots=True)
class Accept:
    revision: int


@dataclass(frozen=True, slots=True)
class Decline:
    reason: str | None = None
    on_behalf_of: Side | None = None


@dataclass(frozen=True, slots=True)
class Withdraw:
    reason: str | None = None


QuoteCommand = Respond | Counter | Accept | Decline | Withdraw | Convert


def apply_action(
    state: QuoteState,
    actor: ActorRole,
    action: QuoteCommand,
    now: datetime,
    *,
    limits: QuoteLimits = DEFAULT_LIMITS,
) -> QuoteState:
    """Apply one command object; the same rules as the functions above.
    ``Convert`` is the marketplace backend's alone."""
    match action:
        case Respond():
            return respond(
                state,
                actor,
                now,
                prices=action.prices,
                valid_until=action.valid_until,
                note=action.note,
                limits=limits,
            )
        case Counter():
            return counter(
                state,
                actor,
                now,
                prices=action.prices,
                valid_until=action.valid_until,
                note=action.note,
                on_behalf_of=action.on_behalf_of,
                limits=limits,
            )
        case Accept():
            return accept(state, actor, now, revision=action.revision)
        case Decline():
            return decline(
                state, actor, now, reason=action.reason, on_behalf_of=action.on_behalf_of
            )
        case Withdraw():
            return withdraw(state, actor, now, reason=action.reason)
        case Convert():
            if actor != "server":
                raise RoleNotAllowed("only the marketplace converts an accepted quote")
            return convert(
                state, action.kind, action.payment_terms, now, reference=action.reference
            )
    raise TypeError(f"not a quote command: {type(action).__name__}")
