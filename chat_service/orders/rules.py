"""Pure rules of the orders service layer: who may see an order, who may set
which status, what makes two creates "the same order". No I/O.

Who may set which status (the graph itself is :mod:`chat_service.orders.states`):

* the marketplace backend (server key): any edge of the machine, for its own
  tenant only;
* the order's seller: ``processing``, ``partially_shipped``, ``shipped``,
  ``delivered`` and ``cancelled`` (never ``approved``/``rejected``, which
  belong to approvers, nor ``refunded``, which is the marketplace's money),
  and records shipments and back-orders;
* the order's buyer: only ``cancelled``, and only while the order is
  ``placed`` or ``awaiting_approval``;
* an approver of the order's rule: sees the order, and approves or rejects
  it through the approval endpoint; nothing else.

Anyone else gets the same ``not_found`` as an unknown order id; a party who
may see the order but not make the change gets 403 ``status_not_allowed``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Final

from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.errors import Forbidden
from chat_service.ids import EXTERNAL_ID_PATTERN
from chat_service.orders.errors import InvalidBackorder, MixedCurrencies, UnknownLine, UnknownSku
from chat_service.orders.lines import OrderLine, check_order_lines, make_order_line
from chat_service.orders.schemas import OrderCreate
from chat_service.orders.states import OrderStatus, parse_status, transition

__all__ = [
    "BACKORDER_OPEN",
    "BUYER_CANCELS_FROM",
    "SELLER_STATUSES",
    "Actor",
    "actor_label",
    "check_fulfiller",
    "check_may_set",
    "count_text",
    "find_line",
    "fingerprint",
    "history_entry",
    "may_see",
    "order_lines",
    "status_change",
    "valid_external_id",
]

Actor = UserPrincipal | ServerPrincipal
Doc = dict[str, Any]

_S = OrderStatus
SELLER_STATUSES: Final = frozenset(
    {_S.PROCESSING, _S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.DELIVERED, _S.CANCELLED}
)
BUYER_CANCELS_FROM: Final = frozenset({_S.PLACED, _S.AWAITING_APPROVAL})
BACKORDER_OPEN: Final = frozenset(
    {_S.PLACED, _S.AWAITING_APPROVAL, _S.APPROVED, _S.PROCESSING, _S.PARTIALLY_SHIPPED}
)
_ID = re.compile(EXTERNAL_ID_PATTERN)


def valid_external_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def may_see(actor: Actor, doc: Doc) -> bool:
    if isinstance(actor, ServerPrincipal):
        return True
    approvers = (doc.get("approval") or {}).get("approver_ids", [])
    return actor.user_id in {doc["buyer"]["user_id"], doc["seller"]["user_id"], *approvers}


def actor_label(actor: Actor, doc: Doc) -> str:
    """Who made a change, as the order's history records it (ids only)."""
    if isinstance(actor, ServerPrincipal):
        return "marketplace"
    if actor.user_id == doc["seller"]["user_id"]:
        return f"seller:{actor.user_id}"
    if actor.user_id == doc["buyer"]["user_id"]:
        return f"buyer:{actor.user_id}"
    return f"approver:{actor.user_id}"


def check_may_set(actor: Actor, doc: Doc, current: OrderStatus, target: OrderStatus) -> None:
    if isinstance(actor, ServerPrincipal):
        return
    if actor.user_id == doc["seller"]["user_id"] and target in SELLER_STATUSES:
        return
    if (
        actor.user_id == doc["buyer"]["user_id"]
        and target is _S.CANCELLED
        and current in BUYER_CANCELS_FROM
    ):
        return
    raise Forbidden(f"you may not set this order to {target.value}", code="status_not_allowed")


def check_fulfiller(actor: Actor, doc: Doc) -> None:
    if isinstance(actor, UserPrincipal) and actor.user_id != doc["seller"]["user_id"]:
        raise Forbidden(
            "only the seller or the marketplace records fulfilment", code="status_not_allowed"
        )


def fingerprint(request: OrderCreate, lines: tuple[OrderLine, ...]) -> str:
    """What makes two creates "the same order" (e-mail addresses excluded:
    they live encrypted in the user directory, not on the order)."""
    content = {
        "currency": lines[0].unit_price.currency,
        "buyer": request.buyer.model_dump(exclude={"email"}),
        "seller": request.seller.model_dump(exclude={"email"}),
        "lines": [
            [ln.line_id, ln.sku, ln.name, ln.quantity, str(ln.unit_price.amount)] for ln in lines
        ],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def count_text(quantity: int, what: str = "item") -> str:
    return f"{quantity} {what}{'' if quantity == 1 else 's'}"


def find_line(lines: tuple[OrderLine, ...], line_id: str | None, sku: str | None) -> OrderLine:
    """The line a back-order names by ``line_id`` or by an unambiguous ``sku``."""
    if line_id is not None:
        found = next((ln for ln in lines if ln.line_id == line_id), None)
        if found is None:
            raise UnknownLine(f"the order has no line {line_id!r}")
        if sku is not None and found.sku != sku:
            raise UnknownSku(f"line {line_id!r} has SKU {found.sku!r}, not {sku!r}")
        return found
    if sku is None:
        raise InvalidBackorder("name the line by line_id or sku")
    matches = [ln for ln in lines if ln.sku == sku]
    if not matches:
        raise UnknownSku(f"the order has no line with SKU {sku!r}")
    if len(matches) > 1:
        raise InvalidBackorder(f"SKU {sku!r} is on several lines; name the line_id")
    return matches[0]


def order_lines(request: OrderCreate, currency: str) -> tuple[OrderLine, ...]:
    """The request's lines, checked; a line without an id gets its position."""
    lines = check_order_lines(
        make_order_line(
            line_id=line.line_id or str(index),
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            currency=line.currency or currency,
        )
        for index, line in enumerate(request.lines, start=1)
    )
    if lines[0].unit_price.currency != currency:
        raise MixedCurrencies(
            f"the lines are priced in {lines[0].unit_price.currency}, the order in {currency}"
        )
    return lines


def history_entry(
    kind: str, current: OrderStatus, target: OrderStatus, note: str | None, text: str
) -> dict[str, Any]:
    """One order history entry. The note is stored apart (sealed) and added
    to the system message when it is posted, so ``text`` never holds it."""
    return {
        "kind": kind,
        "from_status": current.value,
        "to_status": target.value,
        "note": note,
        "text": text,
    }


def status_change(
    actor: Actor, doc: Doc, target: OrderStatus, note: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields and history entry of setting order ``doc`` to ``target``,
    or the error that refuses it (who may, and the status machine)."""
    current = parse_status(doc["status"])
    check_may_set(actor, doc, current, target)
    transition(current, target)
    fields: dict[str, Any] = {"status": target.value}
    if target in (_S.APPROVED, _S.REJECTED) and doc.get("approval"):
        fields["approval.decided_by"] = "marketplace"
        fields["approval.decision"] = "approve" if target is _S.APPROVED else "reject"
    text = f"Order #{doc['order_id']}: {current.value} → {target.value}"
    return fields, history_entry("status", current, target, note, text)
