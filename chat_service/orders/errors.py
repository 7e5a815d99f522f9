"""Errors of the orders domain, each under the service's root in
:mod:`chat_service.errors` so the edges turn them into problem details or
WebSocket error frames with the same stable ``code``::

    ChatError
    ├── BadRequest                    400
    │   ├── InvalidAmount                 invalid_amount
    │   ├── UnsupportedCurrency           unsupported_currency
    │   ├── MixedCurrencies               mixed_currencies
    │   ├── InvalidQuantity               invalid_quantity
    │   ├── InvalidLineItem               invalid_line_item
    │   ├── UnknownStatus                 unknown_status
    │   ├── UnknownLine                   unknown_line
    │   │   └── UnknownSku                unknown_sku
    │   ├── InvalidShipment               invalid_shipment
    │   ├── InvalidBackorder              invalid_backorder
    │   └── InvalidApprovalRules          invalid_approval_rules
    ├── Forbidden                     403
    │   └── NotAnApprover                 not_approver
    └── Conflict                      409
        ├── IllegalTransition             illegal_transition
        ├── QuantityExceedsRemaining      quantity_exceeds_remaining
        ├── DuplicateShipment             duplicate_shipment
        ├── LineFullyShipped              line_fully_shipped
        └── ApprovalCurrencyMismatch      approval_currency_mismatch

``BadRequest`` means the input is wrong whatever the order looks like;
``Conflict`` means the input is well formed but the order's current state
refuses it (resending it later, or to another order, may succeed).
"""

from __future__ import annotations

from collections.abc import Iterable

from chat_service.errors import BadRequest, Conflict, Forbidden

__all__ = [
    "ApprovalCurrencyMismatch",
    "DuplicateShipment",
    "IllegalTransition",
    "InvalidAmount",
    "InvalidApprovalRules",
    "InvalidBackorder",
    "InvalidLineItem",
    "InvalidQuantity",
    "InvalidShipment",
    "LineFullyShipped",
    "MixedCurrencies",
    "NotAnApprover",
    "QuantityExceedsRemaining",
    "UnknownLine",
    "UnknownSku",
    "UnknownStatus",
    "UnsupportedCurrency",
]


class InvalidAmount(BadRequest):
    """Not an exact amount of the currency: a float, NaN, too many decimals, ..."""

    code = "invalid_amount"


class UnsupportedCurrency(BadRequest):
    code = "unsupported_currency"


class MixedCurrencies(BadRequest):
    code = "mixed_currencies"


class InvalidQuantity(BadRequest):
    """Quantities are whole numbers from 1 up to a configured maximum."""

    code = "invalid_quantity"


class InvalidLineItem(BadRequest):
    """A malformed line item, or a list of them that is empty, too long or has
    a line id twice."""

    code = "invalid_line_item"


class UnknownStatus(BadRequest):
    code = "unknown_status"


class UnknownLine(BadRequest):
    """A shipment or back-order names a line the order does not have."""

    code = "unknown_line"


class UnknownSku(UnknownLine):
    code = "unknown_sku"


class InvalidShipment(BadRequest):
    code = "invalid_shipment"


class InvalidBackorder(BadRequest):
    code = "invalid_backorder"


class InvalidApprovalRules(BadRequest):
    code = "invalid_approval_rules"


class NotAnApprover(Forbidden):
    code = "not_approver"


class IllegalTransition(Conflict):
    """The order's status machine has no edge ``current -> target``.

    ``allowed`` lists the statuses ``current`` may move to (empty when it is
    terminal), so clients can show what is possible instead.
    """

    code = "illegal_transition"

    def __init__(self, current: str, target: str, allowed: Iterable[str]) -> None:
        self.current = current
        self.target = target
        self.allowed = tuple(sorted(allowed))
        if self.allowed:
            options = ", ".join(self.allowed)
            detail = (
                f"an order cannot move from {current!r} to {target!r}; "
                f"from {current!r} it can move to: {options}"
            )
        else:
            detail = f"an order cannot move from {current!r} to {target!r}; {current!r} is final"
        super().__init__(detail)


class QuantityExceedsRemaining(Conflict):
    code = "quantity_exceeds_remaining"


class DuplicateShipment(Conflict):
    code = "duplicate_shipment"


class LineFullyShipped(Conflict):
    code = "line_fully_shipped"


class ApprovalCurrencyMismatch(Conflict):
    """The organisation has approval rules, none in the order's currency.

    Refused rather than waved through: converting currencies is not this
    service's business, and skipping approval would be the unsafe default.
    """

    code = "approval_currency_mismatch"
