"""The quote's data: line items with configuration options, revisions, the
conversion record and the quote's state, all immutable.

Line items are described like order lines (line id, SKU, name, quantity) and
carry free-form configuration options, ``str -> str`` ("colour": "oak",
"freight destination": "Denver, CO"), kept in the order given. Keys are
unique ignoring case, 1 to ``max_option_key_chars`` characters without
control characters; values have at most ``max_option_value_chars`` characters
and may contain line breaks and tabs but no other control characters. Every
limit sits in :class:`QuoteLimits` so a deployment can change it.

A :class:`Revision` is one priced round: unit prices for every line, in the
quote's currency, and for the seller's offers a timezone-aware
``valid_until`` (valid while ``now < valid_until``). Revisions are numbered
1, 2, 3, ... in the order they were made; only the latest can be accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal

from chat_service.orders.errors import InvalidLineItem
from chat_service.orders.lines import check_line_id, check_line_name, check_sku
from chat_service.orders.money import check_currency, check_quantity
from chat_service.quotes.errors import InvalidNote, InvalidOptions
from chat_service.quotes.states import ActorRole, QuoteStatus, Side

__all__ = [
    "DEFAULT_LIMITS",
    "Conversion",
    "ConversionKind",
    "PaymentTerms",
    "QuoteLimits",
    "QuoteLine",
    "QuoteState",
    "Revision",
    "RevisionKind",
    "check_aware",
    "check_note",
    "check_options",
    "make_quote_line",
    "request_quote",
]

RevisionKind = Literal["response", "counter"]


@dataclass(frozen=True, slots=True)
class QuoteLimits:
    max_lines: int = 200
    max_options: int = 20
    max_option_key_chars: int = 64
    max_option_value_chars: int = 500
    max_note_chars: int = 2000
    max_revisions: int = 50
    max_validity: timedelta = timedelta(days=365)


DEFAULT_LIMITS: Final = QuoteLimits()


class ConversionKind(StrEnum):
    SALES_ORDER = "sales_order"
    INVOICE = "invoice"


class PaymentTerms(StrEnum):
    CARD = "card"
    ACH = "ach"
    PURCHASE_ORDER = "purchase_order"
    ACCOUNT_CREDIT = "account_credit"


def check_aware(moment: object, what: str) -> datetime:
    """``moment`` if it is a timezone-aware datetime; ``ValueError`` otherwise
    (callers validate user input with their own error first)."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
    return moment


def _has_control(text: str, allowed: str = "") -> bool:
    return any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in text)


def check_note(note: object, limits: QuoteLimits = DEFAULT_LIMITS) -> str | None:
    """A free-text note without surrounding spaces, or ``None`` if blank."""
    if note is None:
        return None
    if not isinstance(note, str) or len(note) > limits.max_note_chars:
        raise InvalidNote(f"a note is text of at most {limits.max_note_chars} characters")
    if _has_control(note, "\n\t"):
        raise InvalidNote("a note may not contain control characters")
    return note.strip() or None


def check_options(
    options: Mapping[str, str] | None, limits: QuoteLimits = DEFAULT_LIMITS
) -> tuple[tuple[str, str], ...]:
    """``options`` as (key, value) pairs in the order given; see the module docstring."""
    if options is None:
        return ()
    if not isinstance(options, Mapping):
        raise InvalidOptions("options are a mapping of text keys to text values")
    if len(options) > limits.max_options:
        raise InvalidOptions(f"a line item has at most {limits.max_options} options")
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key, value in options.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidOptions("option keys and values are text")
        name = key.strip()
        if not name or len(name) > limits.max_option_key_chars or _has_control(name):
            raise InvalidOptions(
                f"option names have 1 to {limits.max_option_key_chars} characters "
                "and no control characters"
            )
        if len(value) > limits.max_option_value_chars or _has_control(value, "\n\t"):
            raise InvalidOptions(
                f"option {name!r}: values have at most {limits.max_option_value_chars} "
                "characters and no control characters"
            )
        if name.casefold() in seen:
            raise InvalidOptions(f"option {name!r} is given twice")
        seen.add(name.casefold())
        pairs.append((name, value))
    return tuple(pairs)


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """A requested line item. ``options`` are validated (key, value) pairs;
    build lines with :func:`make_quote_line` to apply the limits."""

    line_id: str
    sku: str
    name: str
    quantity: int
    options: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        check_line_id(self.line_id)
        check_sku(self.sku)
        object.__setattr__(self, "name", check_line_name(self.name))
        check_quantity(self.quantity)
        pairs = tuple(self.options)
        if not all(
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(isinstance(part, str) for part in pair)
            for pair in pairs
        ):
            raise InvalidOptions("options are (key, value) pairs of text")
        object.__setattr__(self, "options", pairs)

    @property
    def option_map(self) -> Mapping[str, str]:
        return MappingProxyType(dict(self.options))


def make_quote_line(
    *,
    line_id: str,
    sku: str,
    name: str,
    quantity: int,
    options: Mapping[str, str] | None = None,
    limits: QuoteLimits = DEFAULT_LIMITS,
) -> QuoteLine:
    return QuoteLine(line_id, sku, name, quantity, check_options(options, limits))


@dataclass(frozen=True, slots=True)
class Revision:
    """One priced round. ``entered_by`` is ``"server"`` when the marketplace
    backend made it on ``author``'s behalf."""

    number: int
    author: Side
    kind: RevisionKind
    prices: tuple[tuple[str, Decimal], ...]
    created_at: datetime
    valid_until: datetime | None = None
    note: str | None = None
    entered_by: ActorRole | None = None

    def price_of(self, line_id: str) -> Decimal:
        for key, price in self.prices:
            if key == line_id:
                return price
        raise KeyError(line_id)

    def expired(self, now: datetime) -> bool:
        """Whether the offer has lapsed; revisions without ``valid_until`` never do."""
        return self.valid_until is not None and now >= self.valid_until


@dataclass(frozen=True, slots=True)
class Conversion:
    """What an accepted quote became: the marketplace's choice of document and
    payment terms, and an optional reference (a PO number, say)."""

    kind: ConversionKind
    payment_terms: PaymentTerms
    revision: int
    converted_at: datetime
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class QuoteState:
    """Everything the quote rules need. ``closed_by`` and ``reason`` say who
    declined, withdrew or expired it ("server" for expiry) and why."""

    status: QuoteStatus
    currency: str
    lines: tuple[QuoteLine, ...]
    requested_at: datetime
    updated_at: datetime
    note: str | None = None
    revisions: tuple[Revision, ...] = ()
    accepted_revision: int | None = None
    closed_by: ActorRole | None = None
    reason: str | None = None
    conversion: Conversion | None = None

    @property
    def latest(self) -> Revision | None:
        return self.revisions[-1] if self.revisions else None

    @property
    def accepted(self) -> Revision | None:
        if self.accepted_revision is None:
            return None
        return self.revisions[self.accepted_revision - 1]


def request_quote(
    lines: Iterable[QuoteLine],
    currency: str,
    now: datetime,
    *,
    note: str | None = None,
    limits: QuoteLimits = DEFAULT_LIMITS,
) -> QuoteState:
    """A new quote in ``requested`` status: 1 to ``max_lines`` lines with
    distinct ids, a supported currency and an optional note."""
    check_aware(now, "now")
    checked = tuple(lines)
    if not checked or not all(isinstance(line, QuoteLine) for line in checked):
        raise InvalidLineItem("a quote request needs at least one line item")
    if len(checked) > limits.max_lines:
        raise InvalidLineItem(f"a quote has at most {limits.max_lines} line items")
    ids = [line.line_id for line in checked]
    if len(set(ids)) != len(ids):
        raise InvalidLineItem("each line item of a quote needs its own line id")
    for line in checked:
        # Lines built without make_quote_line still meet this deployment's limits.
        if check_options(dict(line.options), limits) != line.options:
            raise InvalidOptions(f"line {line.line_id!r}: options repeat or are not trimmed")
    return QuoteState(
        status=QuoteStatus.REQUESTED,
        currency=check_currency(currency),
        lines=checked,
        requested_at=now,
        updated_at=now,
        note=check_note(note, limits),
    )
