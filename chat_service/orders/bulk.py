"""Bulk status updates: a CSV or JSON upload of ``order_id, status, note`` rows.

Limits: at most :data:`MAX_BULK_ROWS` data rows and :data:`BULK_MAX_BYTES`
of body. CSV needs a header naming ``order_id`` and ``status`` (``note``
optional, any order); JSON is an array of ``{"order_id", "status", "note"?}``
objects. ``row`` in results counts data rows from 1 (a CSV header is not a
row; blank CSV lines are skipped and not counted).

A row that cannot be read (wrong column count, a non-string field, an operator
object such as ``{"$ne": null}``), names an unknown order or status, or asks
for an illegal transition gets a row-level error; every other row is applied
as the marketplace backend, by the same rule as a single status update, in
chunks of orders with a few store round trips each
(:mod:`chat_service.orders.batch`).

The whole upload is idempotent under its ``upload_id``: the first request
records the upload, applies the rows and stores the result; a repeat returns
the stored result without applying anything again. Each row is applied under
the update id ``bulk:<upload_id>:<row>``, so if a process dies mid-upload, a
repeat of the same upload finishes the remaining rows and recognises the rows
already applied. Reusing an ``upload_id`` for different rows is refused with
409 ``upload_id_reused``. Rows of one order are applied in upload order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final

from chat_service.auth.principals import ServerPrincipal
from chat_service.clock import Clock
from chat_service.errors import BadRequest, Conflict, PayloadTooLarge
from chat_service.orders.batch import StatusRow, apply_status_rows
from chat_service.orders.fulfilment import MAX_NOTE_CHARS
from chat_service.orders.repository import OrderRepository
from chat_service.orders.schemas import BulkResult, BulkRowResult
from chat_service.orders.service import OrderService

__all__ = [
    "BULK_MAX_BYTES",
    "MAX_BULK_ROWS",
    "UPLOAD_ID_PATTERN",
    "BulkRow",
    "BulkStatusUpdates",
    "parse_csv",
    "parse_json",
    "upload_fingerprint",
]

MAX_BULK_ROWS: Final = 10_000
# 10,000 rows with long notes; the app's BodyLimit needs this route override.
BULK_MAX_BYTES: Final = 4 * 1024 * 1024
UPLOAD_ID_PATTERN: Final = r"^[A-Za-z0-9_.:-]{1,64}$"
_UPLOAD_ID = re.compile(UPLOAD_ID_PATTERN)
_COLUMNS = ("order_id", "status", "note")


@dataclass(frozen=True, slots=True)
class BulkRow:
    """One data row; ``error`` is (code, detail) when it could not be read."""

    row: int
    order_id: str | None
    status: str | None
    note: str | None = None
    error: tuple[str, str] | None = None


def _bad(row: int, detail: str, order_id: str | None = None) -> BulkRow:
    return BulkRow(row, order_id, None, None, ("invalid_row", detail))


def _row(row: int, order_id: object, status: object, note: object) -> BulkRow:
    """A row from loosely typed cells: strings only, so nothing can become an operator."""
    oid = order_id[:64] if isinstance(order_id, str) else None
    if not isinstance(order_id, str) or not order_id.strip():
        return _bad(row, "order_id must be a non-empty string")
    if len(order_id) > 64:
        return _bad(row, "order_id has at most 64 characters", oid)
    if not isinstance(status, str) or not status.strip() or len(status) > 40:
        return _bad(row, "status must be a non-empty string such as shipped", oid)
    if note is not None and not isinstance(note, str):
        return _bad(row, "note must be a string", oid)
    if note is not None and (len(note) > MAX_NOTE_CHARS or "\x00" in note):
        return _bad(row, f"note has at most {MAX_NOTE_CHARS} characters", oid)
    return BulkRow(row, order_id.strip(), status.strip(), (note or "").strip() or None)


def _check_count(count: int, max_rows: int) -> None:
    if count > max_rows:
        raise PayloadTooLarge(f"an upload has at most {max_rows} rows", code="too_many_rows")


def parse_csv(body: bytes, *, max_rows: int = MAX_BULK_ROWS) -> list[BulkRow]:
    """Rows of a CSV upload; a malformed row becomes a row error, a missing or
    wrong header or undecodable text a 400 ``invalid_csv``."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the CSV is not UTF-8 text", code="invalid_csv") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except (StopIteration, csv.Error):
        raise BadRequest(
            "the CSV needs a header: order_id,status,note", code="invalid_csv"
        ) from None
    if (
        len(set(header)) != len(header)
        or not set(header) <= set(_COLUMNS)
        or not {"order_id", "status"} <= set(header)
    ):
        raise BadRequest(
            f"the CSV header must name order_id and status (and may name note), "
            f"not {','.join(header)[:100]!r}",
            code="invalid_csv",
        )
    where = {name: header.index(name) for name in header}
    rows: list[BulkRow] = []
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            number += 1
            _check_count(number, max_rows)
            rows.append(_bad(number, f"unreadable CSV row: {str(exc)[:100]}"))
            continue
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        number += 1
        _check_count(number, max_rows)
        if len(cells) != len(header):
            rows.append(_bad(number, f"expected {len(header)} columns, found {len(cells)}"))
            continue
        rows.append(
            _row(
                number,
                cells[where["order_id"]],
                cells[where["status"]],
                cells[where["note"]] if "note" in where else None,
            )
        )
    return rows


def parse_json(body: bytes, *, max_rows: int = MAX_BULK_ROWS) -> list[BulkRow]:
    """Rows of a JSON array upload; a malformed element becomes a row error."""
    try:
        items = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the body is not valid JSON", code="invalid_json") from None
    if not isinstance(items, list):
        raise BadRequest(
            'the body is a JSON array of {"order_id", "status", "note"} objects',
            code="invalid_json",
        )
    _check_count(len(items), max_rows)
    rows: list[BulkRow] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(_bad(number, "each row is a JSON object"))
        elif not set(item) <= set(_COLUMNS):
            unknown = sorted(str(key)[:40] for key in set(item) - set(_COLUMNS))
            rows.append(_bad(number, f"unknown fields: {', '.join(unknown)}"))
        else:
            rows.append(_row(number, item.get("order_id"), item.get("status"), item.get("note")))
    return rows


def upload_fingerprint(rows: list[BulkRow]) -> str:
    """What makes two uploads "the same rows", whatever their format."""
    content = [[r.row, r.order_id, r.status, r.note, r.error and r.error[0]] for r in rows]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


class BulkStatusUpdates:
    def __init__(
        self,
        orders: OrderService,
        repository: OrderRepository,
        clock: Clock,
    ) -> None:
        self._orders = orders
        self._repo = repository
        self._clock = clock

    async def apply(
        self, server: ServerPrincipal, upload_id: str, rows: list[BulkRow]
    ) -> BulkResult:
        """Apply ``rows`` once under ``upload_id`` (see the module docstring)."""
        if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
            raise BadRequest(
                "upload_id must be 1-64 letters, digits or _.:- (header Upload-Id or query)",
                code="invalid_upload_id",
            )
        content = upload_fingerprint(rows)
        stored, created = await self._repo.start_upload(
            server.tenant, upload_id, content, self._clock.now()
        )
        if not created:
            if stored["fingerprint"] != content:
                raise Conflict(
                    f"upload {upload_id!r} was made with different rows", code="upload_id_reused"
                )
            if stored["state"] == "done" and stored["result"] is not None:
                return BulkResult(**stored["result"], replayed=True)
        results = await self._apply_rows(server, upload_id, rows)
        applied = sum(1 for result in results if result.ok)
        result = BulkResult(
            upload_id=upload_id,
            rows=len(rows),
            applied=applied,
            failed=len(rows) - applied,
            results=results,
        )
        await self._repo.finish_upload(
            server.tenant, upload_id, result_document(result), self._clock.now()
        )
        return result

    async def _apply_rows(
        self, server: ServerPrincipal, upload_id: str, rows: list[BulkRow]
    ) -> list[BulkRowResult]:
        results: dict[int, BulkRowResult] = {}
        by_order: defaultdict[str, list[StatusRow]] = defaultdict(list)
        for row in rows:
            if row.error is not None or row.order_id is None or row.status is None:
                code, detail = row.error or ("invalid_row", "the row is incomplete")
                results[row.row] = BulkRowResult(
                    row=row.row, order_id=row.order_id, ok=False, code=code, detail=detail
                )
            else:
                by_order[row.order_id].append((row.row, row.order_id, row.status, row.note))
        results |= await apply_status_rows(
            self._orders, self._repo, self._clock, server, upload_id, dict(by_order)
        )
        return [results[row.row] for row in rows]


def result_document(result: BulkResult) -> dict[str, Any]:
    """What is stored for a finished upload."""
    return result.model_dump(mode="json", exclude={"replayed"})
