"""The negotiation: respond, counter, accept, decline, withdraw, expire.

Each function takes the quote's state, the actor's role (``"buyer"``,
``"seller"`` or ``"server"`` for the marketplace backend), the action's
input and ``now`` (timezone-aware, from the caller's clock), and returns a
new state or raises; the input state is never modified. The service maps the
caller to a role (the quote's buyer is ``"buyer"``, ...); the status table and
who may act are in :mod:`chat_service.quotes.states`. The rules:

* **respond** (seller): prices for every line and a ``valid_until`` after
  ``now`` and at most ``max_validity`` ahead. Allowed while the quote is
  requested, responded or countered; a new response supersedes whatever came
  before, the seller's own earlier offer included.
* **counter** (either side), once there is a revision to answer. The buyer's
  counter proposes prices for every line and has **no** ``valid_until``: only
  the buyer accepts, and only seller revisions, so a buyer's proposal becomes
  binding when the seller answers it with an offer at those prices. The
  seller's counter needs a ``valid_until`` like a response.
* **accept** (buyer) names a revision number. It must be the latest
  (``revision_superseded`` otherwise, ``unknown_revision`` for a number that
  never existed), made by the seller (``cannot_accept_own_revision``) and not
  expired (``quote_expired``).
* **decline** (either side; while the quote is only requested, the seller
  only, since the buyer *withdraws* a request). **withdraw** (buyer).
* **expiry**: an offer is valid while ``now < valid_until``. Once the latest
  revision is the seller's and has lapsed, the quote is expired for every
  action at once, even before the beat job has called :func:`expire_if_due`
  to record it: acting on it raises ``quote_expired``.
* At most ``max_revisions`` revisions per quote (``too_many_revisions``).

The same actions as data, with one dispatcher, are in
:mod:`chat_service.quotes.commands`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from chat_service.orders.errors import InvalidAmount
from chat_service.orders.money import AmountInput, Money, Totals, order_totals, parse_amount
from chat_service.quotes.errors import (
    IllegalQuoteAction,
    InvalidPrices,
    InvalidValidUntil,
    OnBehalfRequired,
    OwnRevision,
    QuoteExpired,
    RevisionSuperseded,
    RoleNotAllowed,
    TooManyRevisions,
    UnknownRevision,
)
from chat_service.quotes.models import (
    DEFAULT_LIMITS,
    QuoteLimits,
    QuoteState,
    Revision,
    RevisionKind,
    check_aware,
    check_note,
)
from chat_service.quotes.states import (
    SIDES,
    ActorRole,
    QuoteAction,
    QuoteStatus,
    Side,
    check_action,
)

__all__ = [
    "accept",
    "counter",
    "decline",
    "expire_if_due",
    "expires_at",
    "respond",
    "revision_totals",
    "withdraw",
]

_PriceInput = Mapping[str, AmountInput]


def _side(actor: str, action: QuoteAction, on_behalf_of: str | None = None) -> Side:
    """The side ``actor`` takes ``action`` for, or an error if it may not."""
    allowed = SIDES[action]
    names = " or the ".join(sorted(allowed)) or "marketplace"
    if actor == "server":
        if on_behalf_of is None:
            if len(allowed) != 1:
                raise OnBehalfRequired(f"say whether to {action} for the buyer or the seller")
            return next(iter(allowed))
        side = on_behalf_of
    elif actor in ("buyer", "seller"):
        if on_behalf_of not in (None, actor):
            raise RoleNotAllowed(f"a {actor} acts only on their own behalf")
        side = actor
    else:
        raise RoleNotAllowed(f"unknown actor {str(actor)[:20]!r}")
    if side == "buyer" and "buyer" in allowed:
        return "buyer"
    if side == "seller" and "seller" in allowed:
        return "seller"
    raise RoleNotAllowed(f"only the {names} can {action} a quote")


def _due(state: QuoteState, now: datetime) -> bool:
    latest = state.latest
    return (
        state.status in (QuoteStatus.RESPONDED, QuoteStatus.COUNTERED)
        and latest is not None
        and latest.author == "seller"
        and latest.expired(now)
    )


def _open(state: QuoteState, now: datetime, action: QuoteAction, hint: str = "") -> QuoteStatus:
    """The status ``action`` leads to, once the quote is known not to be expired."""
    check_aware(now, "now")
    if state.status is QuoteStatus.EXPIRED or _due(state, now):
        raise QuoteExpired("this quote has expired; the buyer can request a new one")
    return check_action(state.status, action, hint=hint)


def expires_at(state: QuoteState) -> datetime | None:
    """When the quote will expire unless someone acts first (the beat job's
    schedule), or ``None`` while no seller offer is pending."""
    latest = state.latest
    if state.status not in (QuoteStatus.RESPONDED, QuoteStatus.COUNTERED) or latest is None:
        return None
    return latest.valid_until if latest.author == "seller" else None


def expire_if_due(state: QuoteState, now: datetime) -> QuoteState:
    """The quote marked ``expired`` if its pending offer lapsed by ``now``;
    otherwise ``state`` itself."""
    check_aware(now, "now")
    if not _due(state, now):
        return state
    return replace(state, status=QuoteStatus.EXPIRED, closed_by="server", updated_at=now)


def _prices(state: QuoteState, prices: _PriceInput) -> tuple[tuple[str, Decimal], ...]:
    if not isinstance(prices, Mapping):
        raise InvalidPrices("prices map each line id to a unit price")
    line_ids = [line.line_id for line in state.lines]
    unknown = sorted(str(key)[:64] for key in prices if key not in line_ids)
    if unknown:
        raise InvalidPrices(f"the quote has no line {unknown[0]!r}", code="unknown_line")
    missing = [line_id for line_id in line_ids if line_id not in prices]
    if missing:
        raise InvalidPrices(f"line {missing[0]!r} has no price", code="missing_price")
    parsed: list[tuple[str, Decimal]] = []
    for line_id in line_ids:
        try:
            parsed.append((line_id, parse_amount(prices[line_id], state.currency)))
        except InvalidAmount as error:
            raise InvalidAmount(f"line {line_id!r}: {error.detail}") from error
    return tuple(parsed)


def _valid_until(valid_until: object, now: datetime, limits: QuoteLimits) -> datetime:
    if not isinstance(valid_until, datetime) or valid_until.utcoffset() is None:
        raise InvalidValidUntil("a seller's offer needs a timezone-aware valid_until")
    if valid_until <= now:
        raise InvalidValidUntil("valid_until must be in the future")
    if valid_until > now + limits.max_validity:
        raise InvalidValidUntil(f"an offer is valid for at most {limits.max_validity.days} days")
    return valid_until


def _add_revision(
    state: QuoteState,
    *,
    actor: ActorRole,
    side: Side,
    kind: RevisionKind,
    target: QuoteStatus,
    prices: _PriceInput,
    valid_until: datetime | None,
    note: str | None,
    now: datetime,
    limits: QuoteLimits,
) -> QuoteState:
    if len(state.revisions) >= limits.max_revisions:
        raise TooManyRevisions(f"a quote has at most {limits.max_revisions} revisions")
    priced = _prices(state, prices)
    until = _valid_until(valid_until, now, limits) if side == "seller" else None
    revision = Revision(
        number=len(state.revisions) + 1,
        author=side,
        kind=kind,
        prices=priced,
        created_at=now,
        valid_until=until,
        note=check_note(note, limits),
        entered_by=actor,
    )
    return replace(state, status=target, revisions=(*state.revisions, revision), updated_at=now)


def respond(
    state: QuoteState,
    actor: ActorRole,
    now: datetime,
    *,
    prices: _PriceInput,
    valid_until: datetime,
    note: str | None = None,
    limits: QuoteLimits = DEFAULT_LIMITS,
) -> QuoteState:
    """The seller's priced offer (see the module docstring)."""
    side = _side(actor, QuoteAction.RESPOND)
    target = _open(state, now, QuoteAction.RESPOND)
    return _add_revision(
        state,
        actor=actor,
        side=side,
        kind="response",
        target=target,
        prices=prices,
        valid_until=valid_until,
        note=note,
        now=now,
        limits=limits,
    )


def counter(
    state: QuoteState,
    actor: ActorRole,
    now: datetime,
    *,
    prices: _PriceInput,
    valid_until: datetime | None = None,
    note: str | None = None,
    on_behalf_of: Side | None = None,
    limits: QuoteLimits = DEFAULT_LIMITS,
) -> QuoteState:
    """A counter-proposal from either side (see the module docstring)."""
    side = _side(actor, QuoteAction.COUNTER, on_behalf_of)
    hint = "a request is answered by the seller's response"
    target = _open(state, now, QuoteAction.COUNTER, hint)
    if side == "buyer" and valid_until is not None:
        raise InvalidValidUntil(
            "a buyer's counter has no valid_until: only the seller's offers can be accepted"
        )
    return _add_revision(
        state,
        actor=actor,
        side=side,
        kind="counter",
        target=target,
        prices=prices,
        valid_until=valid_until,
        note=note,
        now=now,
        limits=limits,
    )


def accept(state: QuoteState, actor: ActorRole, now: datetime, *, revision: int) -> QuoteState:
    """The buyer accepts revision number ``revision`` (see the module docstring)."""
    _side(actor, QuoteAction.ACCEPT)
    target = _open(state, now, QuoteAction.ACCEPT)
    latest = state.latest
    if latest is None:  # only a requested quote has no revision; check_action refused it
        raise UnknownRevision("this quote has no revision to accept")
    if isinstance(revision, bool) or not isinstance(revision, int):
        raise UnknownRevision("name the revision to accept by its number")
    if not 1 <= revision <= latest.number:
        raise UnknownRevision(f"this quote has no revision {revision}")
    if revision < latest.number:
        raise RevisionSuperseded(revision, latest.number)
    if latest.author != "seller":
        raise OwnRevision(
            f"revision {revision} is the buyer's own counter; the seller answers it first"
        )
    return replace(state, status=target, accepted_revision=revision, updated_at=now)


def decline(
    state: QuoteState,
    actor: ActorRole,
    now: datetime,
    *,
    reason: str | None = None,
    on_behalf_of: Side | None = None,
) -> QuoteState:
    """Either side ends the negotiation (the seller only, while just requested)."""
    side = _side(actor, QuoteAction.DECLINE, on_behalf_of)
    target = _open(state, now, QuoteAction.DECLINE)
    if side == "buyer" and state.status is QuoteStatus.REQUESTED:
        raise IllegalQuoteAction(
            state.status.value,
            "decline",
            ["withdraw"],
            "a buyer withdraws a request that has no offer yet",
        )
    return replace(state, status=target, closed_by=side, reason=check_note(reason), updated_at=now)


def withdraw(
    state: QuoteState, actor: ActorRole, now: datetime, *, reason: str | None = None
) -> QuoteState:
    """The buyer who requested the quote takes it back."""
    side = _side(actor, QuoteAction.WITHDRAW)
    target = _open(state, now, QuoteAction.WITHDRAW)
    return replace(state, status=target, closed_by=side, reason=check_note(reason), updated_at=now)


def revision_totals(state: QuoteState, revision: Revision) -> Totals:
    """The exact total of ``revision``'s prices times the quote's quantities."""
    return order_totals(
        _Priced(line.quantity, Money(revision.price_of(line.line_id), state.currency))
        for line in state.lines
    )


@dataclass(frozen=True, slots=True)
class _Priced:
    quantity: int
    unit_price: Money
