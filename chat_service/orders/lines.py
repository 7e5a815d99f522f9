"""Order line items: the validated shape every order, shipment and converted
quote shares.

A line has its own ``line_id`` (unique within the order) besides its SKU,
because one SKU can appear on several lines (the same chair in two colours);
shipments and back-orders name lines by id, or by SKU when that is
unambiguous. Ids and SKUs use conservative characters so they are safe as
CSV cells, store keys and log fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from chat_service.ids import EXTERNAL_ID_PATTERN
from chat_service.orders.errors import InvalidLineItem, MixedCurrencies
from chat_service.orders.money import AmountInput, Money, check_quantity, line_total

__all__ = [
    "MAX_LINES",
    "MAX_NAME_CHARS",
    "SKU_PATTERN",
    "OrderLine",
    "check_line_id",
    "check_line_name",
    "check_order_lines",
    "check_sku",
    "make_order_line",
]

MAX_LINES: Final = 500
MAX_NAME_CHARS: Final = 200
SKU_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.:/#+-]{0,63}$"

_LINE_ID = re.compile(EXTERNAL_ID_PATTERN)
_SKU = re.compile(SKU_PATTERN)


def check_line_id(value: object) -> str:
    if not isinstance(value, str) or not _LINE_ID.fullmatch(value):
        raise InvalidLineItem(f"line id {value!r} must be 1-64 letters, digits or _.@-")
    return value


def check_sku(value: object) -> str:
    if not isinstance(value, str) or not _SKU.fullmatch(value):
        raise InvalidLineItem(
            f"SKU {value!r} must be 1-64 letters, digits or _.:/#+- starting with a letter or digit"
        )
    return value


def check_line_name(value: object) -> str:
    """The name without surrounding spaces: 1-200 characters, no control characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidLineItem("a line item needs a name")
    if len(value) > MAX_NAME_CHARS or any(ord(char) < 32 for char in value):
        raise InvalidLineItem(
            f"a line item's name has at most {MAX_NAME_CHARS} characters and no control characters"
        )
    return value.strip()


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of an order: ``quantity`` units of ``sku`` at ``unit_price``."""

    line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Money

    def __post_init__(self) -> None:
        check_line_id(self.line_id)
        check_sku(self.sku)
        object.__setattr__(self, "name", check_line_name(self.name))
        check_quantity(self.quantity)
        if not isinstance(self.unit_price, Money):
            raise InvalidLineItem("a line item's unit price must be Money")
        if self.unit_price.amount < 0:
            raise InvalidLineItem(f"line {self.line_id}: the unit price may not be negative")

    @property
    def total(self) -> Money:
        return line_total(self.quantity, self.unit_price)


def make_order_line(
    *,
    line_id: str,
    sku: str,
    name: str,
    quantity: int,
    unit_price: AmountInput,
    currency: str,
) -> OrderLine:
    """An :class:`OrderLine` from raw input (the price parsed per ``currency``)."""
    return OrderLine(line_id, sku, name, quantity, Money.parse(unit_price, currency))


def check_order_lines(
    lines: Iterable[OrderLine], *, max_lines: int = MAX_LINES
) -> tuple[OrderLine, ...]:
    """``lines`` as a tuple if they can form one order: at least one, at most
    ``max_lines``, distinct line ids and one currency."""
    checked = tuple(lines)
    if not checked:
        raise InvalidLineItem("an order needs at least one line item")
    if len(checked) > max_lines:
        raise InvalidLineItem(f"an order has at most {max_lines} line items")
    seen: set[str] = set()
    currency = checked[0].unit_price.currency
    for line in checked:
        if line.line_id in seen:
            raise InvalidLineItem(f"line id {line.line_id!r} appears more than once")
        seen.add(line.line_id)
        if line.unit_price.currency != currency:
            raise MixedCurrencies(
                f"line {line.line_id!r} is priced in {line.unit_price.currency}, "
                f"the order in {currency}"
            )
    return checked
