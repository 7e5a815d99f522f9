"""Bulk status uploads: parsing, per-row results, idempotency and resuming."""

from __future__ import annotations

import json

import pytest

from chat_service.errors import BadRequest, Conflict, PayloadTooLarge
from chat_service.orders.bulk import BulkStatusUpdates, parse_csv, parse_json, upload_fingerprint
from chat_service.orders.service import OrderService
from chat_service.services import Services
from tests.fixtures.app import TenantKit
from tests.orders.conftest import order_create
from tests.orders.test_service_orders import system_texts

MIXED_CSV = (
    b"order_id,status,note\n"
    b"1,processing,packing\n"  # 1 ok
    b"2,processing\n"  # 2 wrong column count
    b"3,teleported,\n"  # 3 unknown status
    b"404,processing,\n"  # 4 unknown order
    b"1,delivered,\n"  # 5 illegal from processing
    b"\n"  # blank: skipped
    b'1,shipped,"done, finally"\n'  # 6 ok
    b"$ne,processing,\n"  # 7 not an order id
)


def test_csv_rows_are_read_leniently() -> None:
    rows = parse_csv(b"\xef\xbb\xbfstatus,order_id\r\nshipped,A-1\r\n,\r\n")
    assert [(r.row, r.order_id, r.status, r.error) for r in rows] == [
        (1, "A-1", "shipped", None),
        (2, None, None, ("invalid_row", "order_id must be a non-empty string")),
    ]


@pytest.mark.parametrize(
    "body",
    [b"", b"1,shipped\n", b"order_id,state\n1,shipped\n", b"order_id,status,status\n", b"\xff\xfe"],
)
def test_csv_without_a_proper_header_is_refused(body: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_csv(body)
    assert refused.value.code == "invalid_csv"


def test_row_limits() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_csv(b"order_id,status\n" + b"1,shipped\n" * 11, max_rows=10)
    with pytest.raises(PayloadTooLarge):
        parse_json(json.dumps([{"order_id": "1", "status": "shipped"}] * 11).encode(), max_rows=10)


def test_json_rows_refuse_operator_objects_and_wrong_types() -> None:
    rows = parse_json(
        json.dumps(
            [
                {"order_id": {"$ne": None}, "status": "shipped"},
                {"order_id": "1", "status": ["shipped"]},
                {"order_id": "1", "status": "shipped", "$where": "1"},
                "1,shipped",
                {"order_id": "1", "status": "shipped", "note": 5},
                {"order_id": "1", "status": "shipped", "note": "ok"},
            ]
        ).encode()
    )
    assert [r.error[0] if r.error else "ok" for r in rows] == ["invalid_row"] * 5 + ["ok"]
    with pytest.raises(BadRequest):
        parse_json(b'{"order_id": "1"}')
    with pytest.raises(BadRequest):
        parse_json(b"[{")


async def seed(tenant: TenantKit, orders: OrderService, *ids: str) -> None:
    for order_id in ids:
        await orders.create(tenant.server, order_create(order_id))


async def test_mixed_upload_applies_good_rows_and_reports_bad_ones(
    services: Services, tenant: TenantKit, orders: OrderService, bulk: BulkStatusUpdates
) -> None:
    await seed(tenant, orders, "1", "2")
    result = await bulk.apply(tenant.server, "up-1", parse_csv(MIXED_CSV))
    assert (result.rows, result.applied, result.failed) == (7, 2, 5)
    assert [(r.row, r.ok, r.code) for r in result.results] == [
        (1, True, None),
        (2, False, "invalid_row"),
        (3, False, "unknown_status"),
        (4, False, "not_found"),
        (5, False, "illegal_transition"),
        (6, True, None),
        (7, False, "not_found"),
    ]
    order = await orders.get(tenant.server, "1")
    assert order.status == "shipped" and order.history[-1].note == "done, finally"
    assert order.history[-1].update_id == "bulk:up-1:6"
    assert (await orders.get(tenant.server, "2")).status == "placed"


async def test_repeating_an_upload_applies_nothing_again(
    services: Services, tenant: TenantKit, orders: OrderService, bulk: BulkStatusUpdates
) -> None:
    await seed(tenant, orders, "1", "2")
    first = await bulk.apply(tenant.server, "up-1", parse_csv(MIXED_CSV))
    version = (await orders.get(tenant.server, "1")).version
    again = await bulk.apply(tenant.server, "up-1", parse_csv(MIXED_CSV))
    assert again.replayed and not first.replayed
    assert again.results == first.results
    assert (await orders.get(tenant.server, "1")).version == version
    with pytest.raises(Conflict) as refused:
        await bulk.apply(tenant.server, "up-1", parse_csv(b"order_id,status\n2,cancelled\n"))
    assert refused.value.code == "upload_id_reused"
    assert (await orders.get(tenant.server, "2")).status == "placed"
    with pytest.raises(BadRequest):
        await bulk.apply(tenant.server, "bad id!", [])


async def test_an_interrupted_upload_is_finished_by_a_repeat(
    services: Services,
    tenant: TenantKit,
    orders: OrderService,
    bulk: BulkStatusUpdates,
) -> None:
    await seed(tenant, orders, "1", "2", "3")
    csv_body = b"order_id,status\n1,processing\n2,processing\n3,processing\n1,shipped\n"
    rows = parse_csv(csv_body)
    # As if a process recorded the upload, applied rows 1 and 2, then died.
    await services.stores.db["order_uploads"].insert_one(
        {
            "_id": f"{tenant.id}|up-9",
            "tenant": tenant.id,
            "upload_id": "up-9",
            "fingerprint": upload_fingerprint(rows),
            "state": "running",
            "result": None,
        }
    )
    for row in rows[:2]:
        await orders.update_status(
            tenant.server, row.order_id or "", row.status or "", update_id=f"bulk:up-9:{row.row}"
        )
    result = await bulk.apply(tenant.server, "up-9", rows)
    assert not result.replayed and result.applied == 4 and result.failed == 0
    one = await orders.get(tenant.server, "1")
    assert [h.to_status for h in one.history] == ["placed", "processing", "shipped"]
    assert len(await system_texts(services, tenant, one.conversation_id)) == 3
    assert (await orders.get(tenant.server, "2")).version == 2
    stored = await services.stores.db["order_uploads"].find_one({"upload_id": "up-9"})
    assert stored is not None and stored["state"] == "done"
