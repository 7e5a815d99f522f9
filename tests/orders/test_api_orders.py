"""The orders HTTP API end to end against a live server.

Needs the orders domain wired into the app: ``Services.orders`` /
``Services.order_uploads`` in ``chat_service/services.py``, the router and the
bulk route's body cap in ``chat_service/api/app.py``.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.app import LiveServer, TenantKit, create_tenant
from tests.orders.conftest import order_body


def server(live: LiveServer, kit: TenantKit) -> Any:
    return live.http(kit.creds.server_key)


async def create(live: LiveServer, kit: TenantKit, order_id: str = "1042", **extra: Any) -> Any:
    async with server(live, kit) as http:
        response = await http.post("/v1/orders", json=order_body(order_id, **extra))
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_is_idempotent_and_money_is_strings(
    live: LiveServer, live_tenant: TenantKit
) -> None:
    assert live.services.orders is not None
    created = await create(live, live_tenant)
    assert created["subtotal"] == "240.00" and created["lines"][0]["unit_price"] == "100.00"
    async with server(live, live_tenant) as http:
        again = await http.post("/v1/orders", json=order_body("1042"))
        assert (
            again.status_code == 200
            and again.json()["conversation_id"] == created["conversation_id"]
        )
        changed = order_body("1042")
        changed["lines"][0]["quantity"] = 5
        conflict = await http.post("/v1/orders", json=changed)
        assert conflict.status_code == 409 and conflict.json()["code"] == "order_exists"
        floaty = order_body("2")
        floaty["lines"][0]["unit_price"] = 12.5
        refused = await http.post("/v1/orders", json=floaty)
        assert refused.status_code == 422 and "JSON strings" in refused.json()["detail"]
        cents = order_body("3")
        cents["lines"][0]["unit_price"] = "12.505"
        refused = await http.post("/v1/orders", json=cents)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_amount"
        operator = order_body("4")
        operator["order_id"] = {"$ne": None}
        assert (await http.post("/v1/orders", json=operator)).status_code == 422
        history = await http.get(f"/v1/conversations/{created['conversation_id']}/messages")
    texts = [m["text"] for m in history.json()["messages"]]
    assert texts == ["Order #1042 placed: 3 items, USD 240.00"]


async def test_users_see_only_their_orders_and_tenants_are_apart(
    live: LiveServer, live_tenant: TenantKit
) -> None:
    await create(live, live_tenant)
    async with live.http(live_tenant.token("buyer-1")) as http:
        assert (await http.get("/v1/orders/1042")).status_code == 200
        assert [o["order_id"] for o in (await http.get("/v1/orders")).json()] == ["1042"]
        creating = await http.post("/v1/orders", json=order_body("5"))
        assert creating.status_code == 403 and creating.json()["code"] == "server_required"
    async with live.http(live_tenant.token("someone-else")) as http:
        missing = await http.get("/v1/orders/1042")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        assert (await http.get("/v1/orders")).json() == []
    other = await create_tenant(live.services, "Other")
    async with live.http(other.creds.server_key) as http:
        assert (await http.get("/v1/orders/1042")).status_code == 404
        assert (
            await http.post("/v1/orders/1042/status", json={"status": "cancelled"})
        ).status_code == 404


async def test_status_shipments_and_backorders(live: LiveServer, live_tenant: TenantKit) -> None:
    await create(live, live_tenant)
    async with live.http(live_tenant.token("seller-1", "seller")) as http:
        moved = await http.post(
            "/v1/orders/1042/status", json={"status": "processing", "note": "packing"}
        )
        assert moved.status_code == 200 and moved.json()["status"] == "processing"
        illegal = await http.post("/v1/orders/1042/status", json={"status": "delivered"})
        assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"
        refund = await http.post("/v1/orders/1042/status", json={"status": "refunded"})
        assert refund.status_code == 403 and refund.json()["code"] == "status_not_allowed"
        late = await http.post(
            "/v1/orders/1042/backorders", json={"sku": "TABLE", "expected_date": "2099-01-01"}
        )
        assert late.status_code == 400 and late.json()["code"] == "invalid_backorder"
        unknown = await http.post(
            "/v1/orders/1042/shipments",
            json={"shipment_id": "S1", "items": [{"sku": "GHOST", "quantity": 1}]},
        )
        assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_sku"
        zero = await http.post(
            "/v1/orders/1042/shipments",
            json={"shipment_id": "S1", "items": [{"sku": "TABLE", "quantity": 0}]},
        )
        assert zero.status_code == 400 and zero.json()["code"] == "invalid_quantity"
        body = {"shipment_id": "S1", "items": [{"sku": "TABLE", "quantity": 1}], "carrier": "UPS"}
        shipped = await http.post("/v1/orders/1042/shipments", json=body)
        assert shipped.status_code == 201 and shipped.json()["status"] == "partially_shipped"
        assert (await http.post("/v1/orders/1042/shipments", json=body)).status_code == 200
    async with live.http(live_tenant.token("buyer-1")) as http:
        order = (await http.get("/v1/orders/1042")).json()
        assert [h["kind"] for h in order["history"]] == ["created", "status", "shipment"]
        cancel = await http.post("/v1/orders/1042/status", json={"status": "cancelled"})
        assert cancel.status_code == 403


async def test_approval_flow(live: LiveServer, live_tenant: TenantKit) -> None:
    rules = {
        "rules": [
            {"rule_id": "r1", "minimum": "100.00", "currency": "USD", "approver_ids": ["ann"]}
        ]
    }
    async with server(live, live_tenant) as http:
        put = await http.put("/v1/buyer-orgs/acme/approval-rules", json=rules)
        assert put.status_code == 200 and put.json()["rules"][0]["minimum"] == "100.00"
    buyer = {"user_id": "buyer-1", "display_name": "Bea", "org_id": "acme"}
    created = await create(live, live_tenant, buyer=buyer)
    assert created["status"] == "awaiting_approval"
    async with live.http(live_tenant.token("ann")) as http:
        assert (await http.get("/v1/orders/1042")).status_code == 200
        assert [o["order_id"] for o in (await http.get("/v1/orders?role=approver")).json()] == [
            "1042"
        ]
        decided = await http.post("/v1/orders/1042/approval", json={"decision": "approve"})
        assert decided.status_code == 200 and decided.json()["status"] == "approved"
    async with live.http(live_tenant.token("buyer-1")) as http:
        refused = await http.post("/v1/orders/1042/approval", json={"decision": "reject"})
        assert refused.status_code == 403 and refused.json()["code"] == "not_approver"
        messages = (
            await http.get(f"/v1/conversations/{created['conversation_id']}/messages")
        ).json()
    assert messages["messages"][-1]["text"] == "Order #1042 approved by Ann"


async def test_bulk_upload_csv_and_json(live: LiveServer, live_tenant: TenantKit) -> None:
    for order_id in ("1", "2"):
        await create(live, live_tenant, order_id)
    csv_body = "order_id,status,note\n1,processing,ok\n2,processing\n3,processing,\n2,bogus,\n"
    headers = {"Content-Type": "text/csv", "Upload-Id": "u-1"}
    async with server(live, live_tenant) as http:
        first = await http.post("/v1/orders/bulk-status", content=csv_body, headers=headers)
        assert first.status_code == 200, first.text
        result = first.json()
        assert (result["applied"], result["failed"]) == (1, 3)
        assert [r["code"] for r in result["results"]] == [
            None,
            "invalid_row",
            "not_found",
            "unknown_status",
        ]
        again = await http.post("/v1/orders/bulk-status", content=csv_body, headers=headers)
        assert again.json()["replayed"] is True and again.json()["results"] == result["results"]
        as_json = await http.post(
            "/v1/orders/bulk-status?upload_id=u-2",
            json=[
                {"order_id": "2", "status": "cancelled"},
                {"order_id": {"$gt": ""}, "status": "x"},
            ],
        )
        assert [r["ok"] for r in as_json.json()["results"]] == [True, False]
        no_id = await http.post(
            "/v1/orders/bulk-status", content=csv_body, headers={"Content-Type": "text/csv"}
        )
        assert no_id.status_code == 400 and no_id.json()["code"] == "invalid_upload_id"
        xml = await http.post(
            "/v1/orders/bulk-status?upload_id=u-3",
            content="<x/>",
            headers={"Content-Type": "text/xml"},
        )
        assert xml.status_code == 415
        header_only = await http.post(
            "/v1/orders/bulk-status?upload_id=u-4",
            content="1,shipped\n",
            headers={"Content-Type": "text/csv"},
        )
        assert header_only.status_code == 400 and header_only.json()["code"] == "invalid_csv"
    async with live.http(live_tenant.token("seller-1", "seller")) as http:
        denied = await http.post("/v1/orders/bulk-status?upload_id=u-5", json=[])
        assert denied.status_code == 403


async def test_a_10000_row_upload_fits_the_body_cap(
    live: LiveServer, live_tenant: TenantKit
) -> None:
    # Every row has a column too many: read and reported, with no store lookups.
    rows = [f"order-{i:05d},processing,row {i} of the big upload,extra" for i in range(10_000)]
    body = ("order_id,status,note\n" + "\n".join(rows) + "\n").encode()
    assert len(body) > live.services.settings.http_max_body_bytes
    headers = {
        "Content-Type": "text/csv",
        "Authorization": f"Bearer {live_tenant.creds.server_key}",
    }
    async with httpx.AsyncClient(base_url=live.base_url, headers=headers, timeout=60) as http:
        response = await http.post("/v1/orders/bulk-status?upload_id=big", content=body)
        assert response.status_code == 200, response.text
        result = response.json()
        assert (result["rows"], result["failed"]) == (10_000, 10_000)
        assert {r["code"] for r in result["results"]} == {"invalid_row"}
        too_many = body + b"x,processing,,\n"
        refused = await http.post("/v1/orders/bulk-status?upload_id=big2", content=too_many)
        assert refused.status_code == 413 and refused.json()["code"] == "too_many_rows"
        huge = b"order_id,status,note\n" + b"x" * (5 * 1024 * 1024)
        capped = await http.post("/v1/orders/bulk-status?upload_id=big3", content=huge)
        assert capped.status_code == 413
