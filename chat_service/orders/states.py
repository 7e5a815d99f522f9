"""The order status machine.

::

    from                 may move to
    -------------------  ------------------------------------------------
    placed               awaiting_approval, processing, cancelled
    awaiting_approval    approved, rejected, cancelled
    approved             processing, cancelled
    processing           partially_shipped, shipped, cancelled
    partially_shipped    partially_shipped, shipped, refunded
    shipped              delivered, refunded
    delivered            refunded
    rejected             (final)
    cancelled            (final)
    refunded             (final)

An order starts as ``placed``, or as ``awaiting_approval`` when its value
reaches one of the buyer organisation's approval thresholds (see
:mod:`chat_service.orders.approvals`). Only an approved order is processed.

Why these edges:

* Cancelling is possible until something has shipped. Once goods are on the
  way, money goes back through ``refunded`` (a lost parcel, a return) instead.
* ``partially_shipped -> partially_shipped`` is each further partial
  shipment; it is the only edge from a status to itself. Setting the status
  an order already has is otherwise refused, so a caller that wants "set, if
  not already" (a bulk upload that repeats yesterday's rows) compares first.
* ``delivered`` is not final: a return ends in ``refunded``.
* Back-orders do not change the status: they are per line
  (:mod:`chat_service.orders.fulfilment`).

Who may request which edge (seller, approver, marketplace backend) is the
service layer's rule; this module only knows the graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from chat_service.orders.errors import IllegalTransition, UnknownStatus

__all__ = [
    "ALLOWED",
    "INITIAL",
    "TERMINAL",
    "OrderStatus",
    "can_transition",
    "parse_status",
    "transition",
]


class OrderStatus(StrEnum):
    PLACED = "placed"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    PROCESSING = "processing"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


_S = OrderStatus
ALLOWED: Final[Mapping[OrderStatus, frozenset[OrderStatus]]] = MappingProxyType(
    {
        _S.PLACED: frozenset({_S.AWAITING_APPROVAL, _S.PROCESSING, _S.CANCELLED}),
        _S.AWAITING_APPROVAL: frozenset({_S.APPROVED, _S.REJECTED, _S.CANCELLED}),
        _S.APPROVED: frozenset({_S.PROCESSING, _S.CANCELLED}),
        _S.PROCESSING: frozenset({_S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.CANCELLED}),
        _S.PARTIALLY_SHIPPED: frozenset({_S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.REFUNDED}),
        _S.SHIPPED: frozenset({_S.DELIVERED, _S.REFUNDED}),
        _S.DELIVERED: frozenset({_S.REFUNDED}),
        _S.REJECTED: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.REFUNDED: frozenset(),
    }
)
TERMINAL: Final = frozenset(status for status, targets in ALLOWED.items() if not targets)
INITIAL: Final = frozenset({_S.PLACED, _S.AWAITING_APPROVAL})


def parse_status(value: object) -> OrderStatus:
    """``value`` as an :class:`OrderStatus`, or :class:`UnknownStatus`."""
    if isinstance(value, OrderStatus):
        return value
    if isinstance(value, str):
        try:
            return OrderStatus(value)
        except ValueError:
            pass
    known = ", ".join(status.value for status in OrderStatus)
    raise UnknownStatus(f"{str(value)[:40]!r} is not an order status (known: {known})")


def can_transition(current: OrderStatus | str, target: OrderStatus | str) -> bool:
    return parse_status(target) in ALLOWED[parse_status(current)]


def transition(current: OrderStatus | str, target: OrderStatus | str) -> OrderStatus:
    """``target`` if the machine has the edge ``current -> target``; else
    :class:`IllegalTransition` naming both and what ``current`` allows."""
    source = parse_status(current)
    goal = parse_status(target)
    allowed = ALLOWED[source]
    if goal not in allowed:
        raise IllegalTransition(source.value, goal.value, (status.value for status in allowed))
    return goal
