"""Request and response shapes of the orders domain.

Money crosses the API as JSON strings (``"12.50"``), never numbers: a JSON
number has already been through a float in most clients, so it is refused
with a clear message instead of being rounded silently. The exact rules
(decimals per currency, limits) are applied by :mod:`chat_service.orders.money`
in the service, which answers with the domain's stable error codes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

from chat_service.ids import EXTERNAL_ID_PATTERN
from chat_service.orders.fulfilment import MAX_CARRIER_CHARS, MAX_NOTE_CHARS, MAX_TRACKING_CHARS
from chat_service.orders.lines import MAX_LINES

__all__ = [
    "UPDATE_ID_PATTERN",
    "ApprovalDecision",
    "ApprovalPublic",
    "ApprovalRuleIn",
    "ApprovalRulesPublic",
    "ApprovalRulesPut",
    "BackorderCreate",
    "BackorderPublic",
    "BulkResult",
    "BulkRowResult",
    "BuyerIn",
    "HistoryEntry",
    "LineIn",
    "LinePublic",
    "MoneyText",
    "OrderCreate",
    "OrderPublic",
    "PartyIn",
    "PartyPublic",
    "ShipmentCreate",
    "ShipmentItemIn",
    "ShipmentPublic",
    "StatusUpdate",
    "order_public",
]

# Update ids come from the marketplace (or from a bulk upload's row); they are
# stored in the order's history and compared, never used as keys or operators.
UPDATE_ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,120}$"
ExternalId = Annotated[StrictStr, Field(pattern=EXTERNAL_ID_PATTERN)]
Note = Annotated[StrictStr, Field(max_length=MAX_NOTE_CHARS)]


def _money_text(value: object) -> object:
    if isinstance(value, (bool, int, float)):
        raise ValueError('money amounts are JSON strings such as "12.50", never numbers')
    if not isinstance(value, str):
        raise ValueError('money amounts are JSON strings such as "12.50"')
    return value


MoneyText = Annotated[str, BeforeValidator(_money_text), Field(max_length=40)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartyIn(_Strict):
    user_id: ExternalId
    display_name: StrictStr = Field(min_length=1, max_length=200)
    # Handed to the user directory (encrypted there); never kept on the order.
    email: StrictStr | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")


class BuyerIn(PartyIn):
    org_id: ExternalId | None = None


class LineIn(_Strict):
    # Defaults to the line's position ("1", "2", ...).
    line_id: ExternalId | None = None
    sku: StrictStr = Field(max_length=64)
    name: StrictStr = Field(max_length=400)
    # No bounds here: the service refuses 0 and negatives with ``invalid_quantity``.
    quantity: StrictInt
    unit_price: MoneyText
    # Optional; if given it must be the order's currency (else ``mixed_currencies``).
    currency: StrictStr | None = Field(default=None, max_length=3)


class OrderCreate(_Strict):
    order_id: ExternalId
    currency: StrictStr = Field(max_length=3)
    buyer: BuyerIn
    seller: PartyIn
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)


class StatusUpdate(_Strict):
    status: StrictStr = Field(max_length=40)
    note: Note | None = None
    # Optional idempotency key: the same update_id twice changes the order once.
    update_id: StrictStr | None = Field(default=None, pattern=UPDATE_ID_PATTERN)


class ShipmentItemIn(_Strict):
    line_id: ExternalId | None = None
    sku: StrictStr | None = Field(default=None, max_length=64)
    quantity: StrictInt


class ShipmentCreate(_Strict):
    shipment_id: ExternalId
    items: list[ShipmentItemIn] = Field(min_length=1, max_length=MAX_LINES)
    carrier: StrictStr | None = Field(default=None, max_length=MAX_CARRIER_CHARS)
    tracking_number: StrictStr | None = Field(default=None, max_length=MAX_TRACKING_CHARS)


class BackorderCreate(_Strict):
    line_id: ExternalId | None = None
    sku: StrictStr | None = Field(default=None, max_length=64)
    # Default: everything still to ship of the line.
    quantity: StrictInt | None = None
    expected_date: date
    note: Note | None = None


class ApprovalDecision(_Strict):
    decision: Literal["approve", "reject"]
    note: Note | None = None


class ApprovalRuleIn(_Strict):
    rule_id: ExternalId
    minimum: MoneyText
    currency: StrictStr = Field(max_length=3)
    approver_ids: list[ExternalId] = Field(min_length=1, max_length=50)


class ApprovalRulesPut(_Strict):
    rules: list[ApprovalRuleIn] = Field(max_length=50)


class ApprovalRulesPublic(BaseModel):
    org_id: str
    rules: list[ApprovalRuleIn]
    updated_at: datetime | None


class PartyPublic(BaseModel):
    user_id: str
    display_name: str
    org_id: str | None = None


class LinePublic(BaseModel):
    line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: str
    total: str


class ShipmentPublic(BaseModel):
    shipment_id: str
    items: list[ShipmentItemIn]
    carrier: str | None
    tracking_number: str | None
    at: datetime


class BackorderPublic(BaseModel):
    line_id: str
    quantity: int
    expected_date: date
    note: str | None


class ApprovalPublic(BaseModel):
    rule_id: str
    minimum: str
    currency: str
    approver_ids: list[str]
    decided_by: str | None = None
    decision: Literal["approve", "reject"] | None = None


class HistoryEntry(BaseModel):
    version: int
    at: datetime
    actor: str
    kind: Literal["created", "status", "shipment", "backorder", "approval"]
    from_status: str | None
    to_status: str
    note: str | None = None
    update_id: str | None = None


class OrderPublic(BaseModel):
    order_id: str
    conversation_id: str
    status: str
    version: int
    currency: str
    subtotal: str
    buyer: PartyPublic
    seller: PartyPublic
    lines: list[LinePublic]
    shipments: list[ShipmentPublic]
    backorders: list[BackorderPublic]
    approval: ApprovalPublic | None
    history: list[HistoryEntry]
    created_at: datetime
    updated_at: datetime
    # Set when the order was made from an accepted quote.
    quote_id: str | None = None
    payment_terms: str | None = None


class BulkRowResult(BaseModel):
    row: int
    order_id: str | None
    ok: bool
    status: str | None = None
    code: str | None = None
    detail: str | None = None


class BulkResult(BaseModel):
    upload_id: str
    rows: int
    applied: int
    failed: int
    # True when this answer is the stored result of an earlier request.
    replayed: bool = False
    results: list[BulkRowResult]


def order_public(doc: dict[str, Any]) -> OrderPublic:
    """A stored order as callers see it (amounts stay decimal strings)."""
    approval = doc.get("approval")
    return OrderPublic(
        order_id=doc["order_id"],
        conversation_id=doc["conversation_id"],
        status=doc["status"],
        version=doc["version"],
        currency=doc["currency"],
        subtotal=doc["subtotal"],
        buyer=PartyPublic(**doc["buyer"]),
        seller=PartyPublic(**doc["seller"]),
        lines=[
            LinePublic(**line, total=_times(line["unit_price"], line["quantity"]))
            for line in doc["lines"]
        ],
        shipments=[ShipmentPublic(**shipment) for shipment in doc["shipments"]],
        backorders=[BackorderPublic(**backorder) for backorder in doc["backorders"]],
        approval=ApprovalPublic(**approval) if approval else None,
        history=[HistoryEntry(**entry) for entry in doc["history"]],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        quote_id=doc.get("quote_id"),
        payment_terms=doc.get("payment_terms"),
    )


def _times(unit_price: str, quantity: int) -> str:
    # Exact: Decimal multiplication of a stored minor-unit amount by an integer.
    return str(Decimal(unit_price) * quantity)
