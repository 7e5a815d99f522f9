"""Split shipments and back-orders over an order's line items.

A shipment carries some quantity of some lines, with an optional carrier and
tracking number. Items name their line by ``line_id``, or by ``sku`` when
exactly one line has that SKU (handy for carrier feeds); naming both is
allowed if they agree. :func:`add_shipment` refuses a shipment that would
ship more of a line than is left, names a line or SKU the order lacks, lists
a line twice, or reuses a shipment id; on success it says whether the order
is now ``shipped`` (nothing left) or ``partially_shipped``. The caller then
moves the order with :func:`chat_service.orders.states.transition`, which
also refuses shipments for orders that are not being processed.

A back-order (:func:`set_backorder`) marks some still-unshipped quantity of a
line as delayed until an expected date. It does not change the order's
status, and :func:`reconcile_backorders` shrinks or drops back-orders as
later shipments cover them.

All functions are pure: inputs are never modified, results are new objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final, Protocol

from chat_service.ids import EXTERNAL_ID_PATTERN
from chat_service.orders.errors import (
    DuplicateShipment,
    InvalidBackorder,
    InvalidLineItem,
    InvalidShipment,
    LineFullyShipped,
    QuantityExceedsRemaining,
    UnknownLine,
    UnknownSku,
)
from chat_service.orders.money import check_quantity
from chat_service.orders.states import OrderStatus

__all__ = [
    "MAX_BACKORDER_DAYS",
    "MAX_CARRIER_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_TRACKING_CHARS",
    "Backorder",
    "Shipment",
    "ShipmentItem",
    "ShipmentOutcome",
    "ShippableLine",
    "add_shipment",
    "reconcile_backorders",
    "remaining_quantities",
    "set_backorder",
]

MAX_CARRIER_CHARS: Final = 100
MAX_TRACKING_CHARS: Final = 100
MAX_NOTE_CHARS: Final = 500
MAX_BACKORDER_DAYS: Final = 730

_ID = re.compile(EXTERNAL_ID_PATTERN)


class ShippableLine(Protocol):
    """What fulfilment needs from a line item (an ``OrderLine`` has it)."""

    @property
    def line_id(self) -> str: ...

    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


def _optional_text(value: object, what: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or any(ord(c) < 32 for c in value):
        raise InvalidShipment(f"{what} must be text of at most {limit} characters")
    return value.strip() or None


@dataclass(frozen=True, slots=True)
class ShipmentItem:
    """``quantity`` units of one line, named by ``line_id`` and/or ``sku``."""

    quantity: int
    line_id: str | None = None
    sku: str | None = None

    def __post_init__(self) -> None:
        check_quantity(self.quantity)
        if self.line_id is None and self.sku is None:
            raise InvalidShipment("a shipment item names its line by line_id or sku")


@dataclass(frozen=True, slots=True)
class Shipment:
    shipment_id: str
    items: tuple[ShipmentItem, ...]
    carrier: str | None = None
    tracking_number: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.shipment_id, str) or not _ID.fullmatch(self.shipment_id):
            raise InvalidShipment(f"shipment id {self.shipment_id!r} is not a valid id")
        items = tuple(self.items)
        if not items or not all(isinstance(item, ShipmentItem) for item in items):
            raise InvalidShipment("a shipment has at least one item")
        object.__setattr__(self, "items", items)
        carrier = _optional_text(self.carrier, "carrier", MAX_CARRIER_CHARS)
        tracking = _optional_text(self.tracking_number, "tracking number", MAX_TRACKING_CHARS)
        object.__setattr__(self, "carrier", carrier)
        object.__setattr__(self, "tracking_number", tracking)


@dataclass(frozen=True, slots=True)
class ShipmentOutcome:
    """The result of :func:`add_shipment`.

    ``shipment`` is the new shipment with every item's ``line_id`` and ``sku``
    filled in; ``shipments`` is the old ones plus it; ``remaining`` maps each
    line id to what is still to ship; ``status`` is where the order goes.
    """

    shipment: Shipment
    shipments: tuple[Shipment, ...]
    remaining: Mapping[str, int]
    status: OrderStatus


@dataclass(frozen=True, slots=True)
class Backorder:
    """``quantity`` units of a line will ship late, expected on ``expected_date``."""

    line_id: str
    quantity: int
    expected_date: date
    note: str | None = None


def _index(order_lines: Iterable[ShippableLine]) -> dict[str, ShippableLine]:
    by_id: dict[str, ShippableLine] = {}
    for line in order_lines:
        if line.line_id in by_id:
            raise InvalidLineItem(f"line id {line.line_id!r} appears more than once")
        by_id[line.line_id] = line
    return by_id


def _resolve(item: ShipmentItem, by_id: Mapping[str, ShippableLine]) -> ShippableLine:
    if item.line_id is not None:
        line = by_id.get(item.line_id)
        if line is None:
            raise UnknownLine(f"the order has no line {item.line_id!r}")
        if item.sku is not None and item.sku != line.sku:
            raise UnknownSku(f"line {line.line_id!r} has SKU {line.sku!r}, not {item.sku!r}")
        return line
    matches = [line for line in by_id.values() if line.sku == item.sku]
    if not matches:
        raise UnknownSku(f"the order has no line with SKU {item.sku!r}")
    if len(matches) > 1:
        raise InvalidShipment(f"SKU {item.sku!r} is on several lines; name the line_id")
    return matches[0]


def _ship(
    remaining: dict[str, int], by_id: Mapping[str, ShippableLine], shipment: Shipment
) -> Shipment:
    """Subtract ``shipment`` from ``remaining`` (a private working copy) and
    return it with every item resolved to its line."""
    resolved: list[ShipmentItem] = []
    for item in shipment.items:
        line = _resolve(item, by_id)
        if any(done.line_id == line.line_id for done in resolved):
            raise InvalidShipment(
                f"shipment {shipment.shipment_id!r} lists line {line.line_id!r} twice"
            )
        left = remaining[line.line_id]
        if item.quantity > left:
            raise QuantityExceedsRemaining(
                f"shipment {shipment.shipment_id!r} ships {item.quantity} of line "
                f"{line.line_id!r} (SKU {line.sku!r}) but only {left} of {line.quantity} "
                "are left to ship"
            )
        remaining[line.line_id] = left - item.quantity
        resolved.append(ShipmentItem(item.quantity, line.line_id, line.sku))
    return replace(shipment, items=tuple(resolved))


def remaining_quantities(
    order_lines: Iterable[ShippableLine], shipments: Iterable[Shipment]
) -> dict[str, int]:
    """Line id -> quantity not yet covered by ``shipments`` (a new dict)."""
    by_id = _index(order_lines)
    remaining = {line_id: line.quantity for line_id, line in by_id.items()}
    for shipment in shipments:
        _ship(remaining, by_id, shipment)
    return remaining


def add_shipment(
    order_lines: Iterable[ShippableLine],
    shipments: Sequence[Shipment],
    new_shipment: Shipment,
) -> ShipmentOutcome:
    """Record ``new_shipment`` after ``shipments``, or raise without changing
    anything: :class:`DuplicateShipment`, :class:`UnknownLine` /
    :class:`UnknownSku`, :class:`InvalidShipment`,
    :class:`QuantityExceedsRemaining`."""
    by_id = _index(order_lines)
    if not by_id:
        raise InvalidLineItem("an order without line items has nothing to ship")
    if any(old.shipment_id == new_shipment.shipment_id for old in shipments):
        raise DuplicateShipment(f"shipment {new_shipment.shipment_id!r} is already recorded")
    remaining = {line_id: line.quantity for line_id, line in by_id.items()}
    for old in shipments:
        _ship(remaining, by_id, old)
    shipment = _ship(remaining, by_id, new_shipment)
    done = all(left == 0 for left in remaining.values())
    return ShipmentOutcome(
        shipment=shipment,
        shipments=(*shipments, shipment),
        remaining=MappingProxyType(remaining),
        status=OrderStatus.SHIPPED if done else OrderStatus.PARTIALLY_SHIPPED,
    )


def set_backorder(
    line: ShippableLine,
    expected_date: date,
    *,
    today: date,
    remaining: int,
    quantity: int | None = None,
    note: str | None = None,
    max_days: int = MAX_BACKORDER_DAYS,
) -> Backorder:
    """Back-order ``quantity`` (default: all of ``remaining``, what is left to
    ship of ``line``) until ``expected_date``.

    ``expected_date`` is a calendar date (not a datetime), from ``today``
    (the caller's clock, in the marketplace's time zone) up to ``max_days``
    ahead. Setting a back-order again replaces the previous one for the line.
    """
    if remaining < 1:
        raise LineFullyShipped(f"line {line.line_id!r} has nothing left to ship")
    if isinstance(expected_date, datetime) or not isinstance(expected_date, date):
        raise InvalidBackorder("the expected date is a calendar date such as 2026-05-01")
    if expected_date < today:
        raise InvalidBackorder(f"the expected date {expected_date} is in the past")
    if expected_date > today + timedelta(days=max_days):
        raise InvalidBackorder(f"the expected date is more than {max_days} days ahead")
    count = remaining if quantity is None else check_quantity(quantity)
    if count > remaining:
        raise QuantityExceedsRemaining(
            f"cannot back-order {count} of line {line.line_id!r}: only {remaining} left to ship"
        )
    if note is not None and (
        not isinstance(note, str) or len(note) > MAX_NOTE_CHARS or "\x00" in note
    ):
        raise InvalidBackorder(f"a back-order note has at most {MAX_NOTE_CHARS} characters")
    return Backorder(line.line_id, count, expected_date, (note or "").strip() or None)


def reconcile_backorders(
    backorders: Iterable[Backorder], remaining: Mapping[str, int]
) -> tuple[Backorder, ...]:
    """``backorders`` after shipments: a back-order never covers more than is
    left to ship of its line, and disappears when nothing is left."""
    kept: list[Backorder] = []
    for backorder in backorders:
        left = remaining.get(backorder.line_id, 0)
        if left < 1:
            continue
        kept.append(backorder if backorder.quantity <= left else replace(backorder, quantity=left))
    return tuple(kept)
