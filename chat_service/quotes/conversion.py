"""What an accepted quote becomes: a sales order or an invoice, with the
payment terms the marketplace records (card, ACH, purchase order, account
credit).

Only an ``accepted`` quote converts, exactly once (``converted`` is final);
the marketplace backend chooses the kind and terms. :func:`agreed_lines`
gives the accepted revision's prices as order lines, ready to create the
sales order from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final, TypeVar

from chat_service.orders.lines import OrderLine
from chat_service.orders.money import Money
from chat_service.quotes.errors import InvalidConversion
from chat_service.quotes.models import (
    Conversion,
    ConversionKind,
    PaymentTerms,
    QuoteState,
    check_aware,
)
from chat_service.quotes.states import QuoteAction, QuoteStatus, check_action

__all__ = ["MAX_REFERENCE_CHARS", "Convert", "agreed_lines", "convert"]

MAX_REFERENCE_CHARS: Final = 100

_E = TypeVar("_E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Convert:
    """The command form of :func:`convert`."""

    kind: ConversionKind | str
    payment_terms: PaymentTerms | str
    reference: str | None = None


def _choice(enum: type[_E], value: object, what: str) -> _E:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum(value)
    except ValueError:
        known = ", ".join(member.value for member in enum)
        raise InvalidConversion(f"{str(value)[:40]!r} is not a {what} (one of: {known})") from None


def convert(
    state: QuoteState,
    kind: ConversionKind | str,
    payment_terms: PaymentTerms | str,
    now: datetime,
    *,
    reference: str | None = None,
) -> QuoteState:
    """The accepted quote, converted into ``kind`` with ``payment_terms``;
    ``reference`` is optional free text such as the buyer's PO number."""
    check_aware(now, "now")
    chosen = _choice(ConversionKind, kind, "conversion kind")
    terms = _choice(PaymentTerms, payment_terms, "payment term")
    if reference is not None and (
        not isinstance(reference, str)
        or len(reference) > MAX_REFERENCE_CHARS
        or any(ord(char) < 32 for char in reference)
    ):
        raise InvalidConversion(f"a reference is at most {MAX_REFERENCE_CHARS} characters")
    target = check_action(state.status, QuoteAction.CONVERT)
    if state.accepted_revision is None:
        raise InvalidConversion("an accepted quote names its accepted revision")
    conversion = Conversion(
        kind=chosen,
        payment_terms=terms,
        revision=state.accepted_revision,
        converted_at=now,
        reference=(reference or "").strip() or None,
    )
    return replace(state, status=target, conversion=conversion, updated_at=now)


def agreed_lines(state: QuoteState) -> tuple[OrderLine, ...]:
    """The quote's lines at the accepted revision's prices, as order lines."""
    if state.status is not QuoteStatus.CONVERTED:
        hint = "only accepted quotes have agreed prices"
        check_action(state.status, QuoteAction.CONVERT, hint=hint)
    revision = state.accepted
    if revision is None:
        raise InvalidConversion("an accepted quote names its accepted revision")
    return tuple(
        OrderLine(
            line_id=line.line_id,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=Money(revision.price_of(line.line_id), state.currency),
        )
        for line in state.lines
    )
