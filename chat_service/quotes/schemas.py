"""Request and response shapes of the quotes API, and how a stored quote
becomes them (:func:`quote_public`, :func:`history_public`, the system
messages' text).

Money is always a decimal string in JSON (``"12.50"``), never a number: a
float price has already been rounded by someone. Amount rules (decimals per
currency, sign, size) and option limits are checked by the pure core
(:mod:`chat_service.quotes.models`, :mod:`chat_service.quotes.revisions`) so
they answer with its stable codes; the shapes here only pin types, so an
operator object (``{"$gt": ""}``) where text belongs is refused up front.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from chat_service.conversations.schemas import ParticipantIn
from chat_service.ids import EXTERNAL_ID_PATTERN
from chat_service.orders.money import order_totals
from chat_service.quotes.conversion import agreed_lines
from chat_service.quotes.models import ConversionKind, PaymentTerms, QuoteState, Revision
from chat_service.quotes.repository import state_from_doc
from chat_service.quotes.revisions import expire_if_due, expires_at, revision_totals
from chat_service.quotes.states import ActorRole, QuoteStatus, Side

__all__ = [
    "AcceptIn",
    "ConversionPublic",
    "ConvertIn",
    "CounterIn",
    "DeclineIn",
    "PartyIn",
    "PartyPublic",
    "QuoteCreate",
    "QuoteEvent",
    "QuoteHistory",
    "QuoteLineIn",
    "QuoteLinePublic",
    "QuotePublic",
    "RespondIn",
    "RevisionPublic",
    "WithdrawIn",
    "conversion_doc",
    "event_text",
    "history_public",
    "quote_public",
]

# Hard caps on the raw shapes; the configured (smaller) limits give the stable codes.
_MAX_RAW_LINES = 1000
_MAX_RAW_OPTIONS = 200
_MAX_TEXT = 5000
Prices = dict[StrictStr, StrictStr]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartyIn(_Strict):
    user_id: StrictStr = Field(pattern=EXTERNAL_ID_PATTERN)
    display_name: StrictStr = Field(min_length=1, max_length=200)
    email: StrictStr | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")

    def participant(self, role: Side) -> ParticipantIn:
        """This party as a participant of the quote's conversation."""
        return ParticipantIn(
            user_id=self.user_id, role=role, display_name=self.display_name, email=self.email
        )


class QuoteLineIn(_Strict):
    line_id: StrictStr = Field(max_length=64)
    sku: StrictStr = Field(max_length=64)
    name: StrictStr = Field(max_length=_MAX_TEXT)
    quantity: StrictInt
    options: dict[StrictStr, StrictStr] | None = Field(default=None, max_length=_MAX_RAW_OPTIONS)


class QuoteCreate(_Strict):
    """A quote request. The marketplace backend names the buyer and may give its
    own ``quote_id``; a buyer's token names the buyer and gets a generated id."""

    quote_id: StrictStr | None = Field(default=None, pattern=EXTERNAL_ID_PATTERN)
    buyer: PartyIn | None = None
    seller: PartyIn
    currency: StrictStr = Field(max_length=3)
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=_MAX_RAW_LINES)
    note: StrictStr | None = Field(default=None, max_length=_MAX_TEXT)
    title: StrictStr | None = Field(default=None, max_length=200)


class _Versioned(_Strict):
    # Optional optimistic-concurrency guard: refused with quote_changed if the
    # quote moved on since the client read it.
    expected_version: StrictInt | None = Field(default=None, ge=1)


class RespondIn(_Versioned):
    prices: Prices = Field(max_length=_MAX_RAW_LINES)
    valid_until: AwareDatetime
    note: StrictStr | None = Field(default=None, max_length=_MAX_TEXT)
    # If given, must be the quote's currency (mixed_currencies otherwise).
    currency: StrictStr | None = Field(default=None, max_length=3)


class CounterIn(_Versioned):
    prices: Prices = Field(max_length=_MAX_RAW_LINES)
    valid_until: AwareDatetime | None = None
    note: StrictStr | None = Field(default=None, max_length=_MAX_TEXT)
    currency: StrictStr | None = Field(default=None, max_length=3)
    on_behalf_of: Side | None = None


class AcceptIn(_Versioned):
    revision: StrictInt


class DeclineIn(_Versioned):
    reason: StrictStr | None = Field(default=None, max_length=_MAX_TEXT)
    on_behalf_of: Side | None = None


class WithdrawIn(_Versioned):
    reason: StrictStr | None = Field(default=None, max_length=_MAX_TEXT)


class ConvertIn(_Versioned):
    kind: ConversionKind
    payment_terms: PaymentTerms
    reference: StrictStr | None = Field(default=None, max_length=100)


class PartyPublic(BaseModel):
    user_id: str
    display_name: str


class QuoteLinePublic(BaseModel):
    line_id: str
    sku: str
    name: str
    quantity: int
    options: dict[str, str]


class RevisionPublic(BaseModel):
    number: int
    author: Side
    kind: Literal["response", "counter"]
    prices: dict[str, str]
    subtotal: str
    created_at: datetime
    valid_until: datetime | None
    note: str | None
    entered_by: ActorRole | None


class ConvertedLine(BaseModel):
    line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: str
    total: str


class ConversionPublic(BaseModel):
    kind: ConversionKind
    payment_terms: PaymentTerms
    revision: int
    converted_at: datetime
    reference: str | None
    document_id: str
    currency: str
    subtotal: str
    lines: list[ConvertedLine]
    # Once handed off: the sales order made from it (None for an invoice).
    handed_off: bool = False
    order_id: str | None = None


class QuotePublic(BaseModel):
    id: str
    # Effective status: an offer that lapsed reads "expired" even before the job ran.
    status: QuoteStatus
    currency: str
    buyer: PartyPublic
    seller: PartyPublic
    conversation_id: str
    lines: list[QuoteLinePublic]
    note: str | None
    revisions: list[RevisionPublic]
    accepted_revision: int | None
    closed_by: ActorRole | None
    reason: str | None
    expires_at: datetime | None
    conversion: ConversionPublic | None
    requested_at: datetime
    updated_at: datetime
    version: int


class QuoteEvent(BaseModel):
    n: int
    action: str
    by: ActorRole
    user_id: str | None
    revision: int | None
    at: datetime


class QuoteHistory(BaseModel):
    quote_id: str
    events: list[QuoteEvent]
    revisions: list[RevisionPublic]


# -- from the store to the shapes above ---------------------------------------

Doc = dict[str, Any]


def _revision_public(state: QuoteState, revision: Revision) -> RevisionPublic:
    return RevisionPublic(
        number=revision.number,
        author=revision.author,
        kind=revision.kind,
        prices={line_id: str(price) for line_id, price in revision.prices},
        subtotal=str(revision_totals(state, revision).subtotal),
        created_at=revision.created_at,
        valid_until=revision.valid_until,
        note=revision.note,
        entered_by=revision.entered_by,
    )


def quote_public(doc: Doc, now: datetime) -> QuotePublic:
    """A stored quote as its parties see it at ``now``."""
    state = state_from_doc(doc["state"])
    shown = expire_if_due(state, now)
    stored_conversion = doc.get("conversion_doc")
    conversion = None
    if state.conversion is not None and stored_conversion is not None:
        conversion = ConversionPublic(
            kind=state.conversion.kind,
            payment_terms=state.conversion.payment_terms,
            revision=state.conversion.revision,
            converted_at=state.conversion.converted_at,
            reference=state.conversion.reference,
            document_id=stored_conversion["document_id"],
            currency=stored_conversion["currency"],
            subtotal=stored_conversion["subtotal"],
            lines=[ConvertedLine(**line) for line in stored_conversion["lines"]],
            handed_off=bool(stored_conversion.get("handed_off")),
            order_id=stored_conversion.get("order_id"),
        )
    return QuotePublic(
        id=doc["quote_id"],
        status=shown.status,
        currency=state.currency,
        buyer=PartyPublic(**doc["buyer"]),
        seller=PartyPublic(**doc["seller"]),
        conversation_id=doc["conversation_id"],
        lines=[
            QuoteLinePublic(
                line_id=line.line_id,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                options=dict(line.options),
            )
            for line in state.lines
        ],
        note=state.note,
        revisions=[_revision_public(state, r) for r in state.revisions],
        accepted_revision=state.accepted_revision,
        closed_by=shown.closed_by,
        reason=state.reason,
        expires_at=expires_at(shown),
        conversion=conversion,
        requested_at=state.requested_at,
        updated_at=state.updated_at,
        version=doc["version"],
    )


def history_public(doc: Doc) -> QuoteHistory:
    state = state_from_doc(doc["state"])
    return QuoteHistory(
        quote_id=doc["quote_id"],
        events=[
            QuoteEvent(
                n=e["n"],
                action=e["action"],
                by=e["by"],
                user_id=e.get("user_id"),
                revision=e.get("revision"),
                at=e["at"],
            )
            for e in doc["events"]
        ],
        revisions=[_revision_public(state, r) for r in state.revisions],
    )


def conversion_doc(state: QuoteState) -> Doc:
    """What a converted quote stores for the order or invoice to be made from:
    a generated document id and the agreed lines at the accepted prices."""
    lines = agreed_lines(state)
    kind = state.conversion.kind if state.conversion else ConversionKind.SALES_ORDER
    prefix = "SO" if kind is ConversionKind.SALES_ORDER else "INV"
    return {
        "document_id": f"{prefix}-{secrets.token_hex(5).upper()}",
        "currency": state.currency,
        "subtotal": str(order_totals(lines).subtotal),
        "lines": [
            {
                "line_id": line.line_id,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price.amount),
                "total": str(line.total.amount),
            }
            for line in lines
        ],
        "handed_off": False,
    }


def event_text(action: str, quote_id: str, state: QuoteState, conversion: Doc | None) -> str:
    """The system message of one change: ids, amounts and dates only, never
    notes or reasons (they are the parties' words, shown in the quote)."""
    quote = f"Quote #{quote_id}"
    latest = state.latest
    offer = ""
    if latest is not None:
        offer = f"{revision_totals(state, latest).subtotal} {state.currency}"
    if action == "request":
        return f"{quote} requested: {len(state.lines)} line item(s), priced in {state.currency}."
    if action == "respond" and latest is not None and latest.valid_until is not None:
        until = latest.valid_until.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"{quote}: the seller offered {offer} (revision {latest.number}), valid until {until}."
        )
    if action == "counter" and latest is not None:
        return f"{quote}: the {latest.author} countered with {offer} (revision {latest.number})."
    if action == "accept" and latest is not None:
        return f"{quote}: the buyer accepted revision {latest.number} ({offer})."
    if action == "decline":
        return f"{quote} was declined by the {state.closed_by or 'marketplace'}."
    if action == "withdraw":
        return f"{quote} was withdrawn by the buyer."
    if action == "expire":
        return f"{quote} expired."
    if action == "convert" and conversion is not None and state.conversion is not None:
        what = (
            "a sales order" if state.conversion.kind is ConversionKind.SALES_ORDER else "an invoice"
        )
        terms = state.conversion.payment_terms.value.replace("_", " ")
        return (
            f"{quote} was converted to {what} {conversion['document_id']} "
            f"({conversion['subtotal']} {conversion['currency']}; payment: {terms})."
        )
    return f"{quote}: {action}."
