"""Bulk status rows applied a chunk at a time, with a handful of store round
trips per chunk instead of several per row.

For each chunk of orders: one ``find`` (``$in``) reads them all; each order's
rows are decided in memory, in upload order, by the same rule as a single
update (:func:`chat_service.orders.rules.status_change`); one ``bulk_write``
stores every order's rows as one conditional update on its version (all of
that order's rows or none: nothing half-applied); one ``insert_many`` appends
the audit entries; the system messages are posted concurrently (the message
writer group-commits them) and marked announced in one more write.

Each row keeps its update id ``bulk:<upload_id>:<row>``: a row already in an
order's history (a repeat after a crash) is reported applied and not applied
again. An order another writer changed between the read and the write is
redone row by row through :meth:`OrderService.update_status`, which retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from chat_service.auth.principals import ServerPrincipal
from chat_service.clock import Clock
from chat_service.errors import ChatError
from chat_service.orders.repository import OrderRepository
from chat_service.orders.rules import actor_label, status_change
from chat_service.orders.schemas import BulkRowResult
from chat_service.orders.service import OrderService
from chat_service.orders.states import parse_status

__all__ = ["CHUNK_ORDERS", "StatusRow", "apply_status_rows"]

Doc = dict[str, Any]
# Orders read, written and announced together.
CHUNK_ORDERS: Final = 500
# (row number, order id, status, note)
StatusRow = tuple[int, str, str, str | None]


def _update_id(upload_id: str, row: int) -> str:
    return f"bulk:{upload_id}:{row}"


def _plan(
    server: ServerPrincipal,
    doc: Doc,
    rows: Sequence[StatusRow],
    upload_id: str,
    clock: Clock,
    results: dict[int, BulkRowResult],
) -> tuple[Doc, list[Doc], Doc]:
    """Decide ``rows`` of one order in memory: the fields to set, the new
    history entries, and the order as it will be once they are stored."""
    done = {h.get("update_id") for h in doc["history"]}
    fields: Doc = {}
    entries: list[Doc] = []
    current = {**doc, "approval": dict(doc["approval"]) if doc.get("approval") else None}
    for number, order_id, status, note in rows:
        update_id = _update_id(upload_id, number)
        if update_id in done:  # applied by an earlier, interrupted run of this upload
            results[number] = BulkRowResult(
                row=number, order_id=order_id, ok=True, status=current["status"]
            )
            continue
        try:
            changed, entry = status_change(server, current, parse_status(status), note)
        except ChatError as error:
            results[number] = BulkRowResult(
                row=number, order_id=order_id, ok=False, code=error.code, detail=error.detail
            )
            continue
        now = clock.now()
        entry.update(
            at=now,
            actor=actor_label(server, current),
            update_id=update_id,
            version=current["version"] + 1,
        )
        fields |= {**changed, "updated_at": now}
        entries.append(entry)
        current["status"] = changed["status"]
        current["version"] += 1
        current["updated_at"] = now
        if current["approval"] is not None and "approval.decision" in changed:
            current["approval"]["decided_by"] = changed["approval.decided_by"]
            current["approval"]["decision"] = changed["approval.decision"]
        results[number] = BulkRowResult(
            row=number, order_id=order_id, ok=True, status=changed["status"]
        )
    current["history"] = [*doc["history"], *entries]
    return fields, entries, current


async def apply_status_rows(
    orders: OrderService,
    repository: OrderRepository,
    clock: Clock,
    server: ServerPrincipal,
    upload_id: str,
    by_order: dict[str, list[StatusRow]],
) -> dict[int, BulkRowResult]:
    """Apply every order's rows (see the module docstring); results by row."""
    results: dict[int, BulkRowResult] = {}
    order_ids = list(by_order)
    for start in range(0, len(order_ids), CHUNK_ORDERS):
        chunk = order_ids[start : start + CHUNK_ORDERS]
        found = await repository.get_many(server.tenant, chunk)
        changes: list[tuple[Doc, Doc, list[Doc]]] = []
        after: dict[str, Doc] = {}
        for order_id in chunk:
            doc = found.get(order_id)
            if doc is None:
                for row in by_order[order_id]:
                    results[row[0]] = _missing(row)
                continue
            fields, entries, updated = _plan(
                server, doc, by_order[order_id], upload_id, clock, results
            )
            if entries:
                changes.append((doc, fields, entries))
                after[doc["_id"]] = updated
            elif updated.get("announced", 0) < updated["version"]:
                after[doc["_id"]] = updated  # a repeat finishes an earlier run's posts
        applied = await repository.apply_many(server.tenant, changes)
        for doc, _, _ in changes:
            if doc["_id"] not in applied:  # lost a race: redo this order row by row
                after.pop(doc["_id"], None)
                for row in by_order[doc["order_id"]]:
                    results[row[0]] = await _one(orders, server, upload_id, row)
        audited = [
            (server, after[doc["_id"]], entry)
            for doc, _, entries in changes
            if doc["_id"] in applied
            for entry in entries
        ]
        await orders.journal.audit_many(server.tenant, audited)
        await orders.journal.announce_many(list(after.values()))
    return results


async def _one(
    orders: OrderService, server: ServerPrincipal, upload_id: str, row: StatusRow
) -> BulkRowResult:
    number, order_id, status, note = row
    try:
        order, _ = await orders.update_status(
            server, order_id, status, note=note, update_id=_update_id(upload_id, number)
        )
    except ChatError as error:
        return BulkRowResult(
            row=number, order_id=order_id, ok=False, code=error.code, detail=error.detail
        )
    return BulkRowResult(row=number, order_id=order_id, ok=True, status=order.status)


def _missing(row: StatusRow) -> BulkRowResult:
    """The error of a row naming no order of the tenant (its status checked
    first, as for a single update)."""
    number, order_id, status, _ = row
    try:
        parse_status(status)
    except ChatError as error:
        return BulkRowResult(
            row=number, order_id=order_id, ok=False, code=error.code, detail=error.detail
        )
    return BulkRowResult(
        row=number, order_id=order_id, ok=False, code="not_found", detail="order not found"
    )
