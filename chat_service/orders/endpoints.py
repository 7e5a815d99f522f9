"""HTTP routes of the orders domain; thin: validate, delegate, shape.

``{order_id}`` in every path is the marketplace's own order id (the one it
created the order with); another tenant's id answers 404 like an unknown one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from chat_service.dependencies import AnyActor, CurrentServer, CurrentUser
from chat_service.errors import PayloadTooLarge, UnsupportedMedia
from chat_service.orders.bulk import BULK_MAX_BYTES, BulkStatusUpdates, parse_csv, parse_json
from chat_service.orders.schemas import (
    ApprovalDecision,
    ApprovalRulesPublic,
    ApprovalRulesPut,
    BackorderCreate,
    BulkResult,
    OrderCreate,
    OrderPublic,
    ShipmentCreate,
    StatusUpdate,
)
from chat_service.orders.service import OrderService

__all__ = ["BULK_PATH_PATTERN", "router"]

router = APIRouter(tags=["orders"])
# For the app's BodyLimit override: the one orders route with large bodies.
BULK_PATH_PATTERN = r"^/v1/orders/bulk-status$"


def get_orders(request: Request) -> OrderService:
    orders: OrderService = request.app.state.services.orders
    return orders


def get_bulk(request: Request) -> BulkStatusUpdates:
    bulk: BulkStatusUpdates = request.app.state.services.order_uploads
    return bulk


Orders = Annotated[OrderService, Depends(get_orders)]
Bulk = Annotated[BulkStatusUpdates, Depends(get_bulk)]


@router.post(
    "/v1/orders",
    response_model=OrderPublic,
    status_code=201,
    responses={200: {"model": OrderPublic, "description": "Already created"}},
)
async def create_order(
    body: OrderCreate, server: CurrentServer, orders: Orders, response: Response
) -> OrderPublic:
    """Create an order (marketplace backend) and open its conversation. The same
    ``order_id`` with the same content again returns the order (200); with
    different content, 409 ``order_exists``. Money is JSON strings ("12.50")."""
    order, created = await orders.create(server, body)
    response.status_code = 201 if created else 200
    return order


@router.get("/v1/orders", response_model=list[OrderPublic])
async def list_orders(
    actor: AnyActor,
    orders: Orders,
    role: Annotated[Literal["buyer", "seller", "approver"] | None, Query()] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[OrderPublic]:
    """Newest first: all of the tenant's orders for the backend; for a user, the
    orders where they are buyer, seller or approver (``role`` picks one)."""
    return await orders.list_orders(actor, role=role, status=status, limit=limit)


_BULK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "description": "order_id,status,note"}},
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "order_id": {"type": "string"},
                            "status": {"type": "string"},
                            "note": {"type": "string"},
                        },
                        "required": ["order_id", "status"],
                    },
                }
            },
        },
    }
}


@router.post("/v1/orders/bulk-status", response_model=BulkResult, openapi_extra=_BULK_BODY)
async def bulk_status(
    request: Request,
    server: CurrentServer,
    bulk: Bulk,
    upload_id_query: Annotated[str | None, Query(alias="upload_id", max_length=64)] = None,
    upload_id_header: Annotated[str | None, Header(alias="Upload-Id", max_length=64)] = None,
) -> BulkResult:
    """Apply many status updates: ``text/csv`` (header ``order_id,status,note``)
    or a JSON array. Per-row results; valid rows applied, invalid ones reported.
    The same ``upload_id`` again returns the stored result and applies nothing."""
    body = await request.body()
    if len(body) > BULK_MAX_BYTES:
        raise PayloadTooLarge(f"an upload has at most {BULK_MAX_BYTES} bytes")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "text/csv":
        rows = parse_csv(body)
    elif media == "application/json":
        rows = parse_json(body)
    else:
        raise UnsupportedMedia("send text/csv or application/json")
    return await bulk.apply(server, upload_id_query or upload_id_header or "", rows)


@router.get("/v1/orders/{order_id}", response_model=OrderPublic)
async def get_order(order_id: str, actor: AnyActor, orders: Orders) -> OrderPublic:
    return await orders.get(actor, order_id)


@router.post("/v1/orders/{order_id}/status", response_model=OrderPublic)
async def update_status(
    order_id: str, body: StatusUpdate, actor: AnyActor, orders: Orders
) -> OrderPublic:
    """One status change. Illegal transitions: 409 ``illegal_transition``, nothing
    changed. A repeated ``update_id`` returns the order without changing it."""
    order, _ = await orders.update_status(
        actor, order_id, body.status, note=body.note, update_id=body.update_id
    )
    return order


@router.post(
    "/v1/orders/{order_id}/shipments",
    response_model=OrderPublic,
    status_code=201,
    responses={200: {"model": OrderPublic, "description": "Already recorded"}},
)
async def add_shipment(
    order_id: str, body: ShipmentCreate, actor: AnyActor, orders: Orders, response: Response
) -> OrderPublic:
    """Record a shipment (seller or backend); 200 if this shipment id was recorded."""
    order, created = await orders.add_shipment(actor, order_id, body)
    response.status_code = 201 if created else 200
    return order


@router.post("/v1/orders/{order_id}/backorders", response_model=OrderPublic)
async def set_backorder(
    order_id: str, body: BackorderCreate, actor: AnyActor, orders: Orders
) -> OrderPublic:
    """Back-order some unshipped quantity of a line until ``expected_date``."""
    return await orders.set_backorder(actor, order_id, body)


@router.post("/v1/orders/{order_id}/approval", response_model=OrderPublic)
async def decide_approval(
    order_id: str, body: ApprovalDecision, user: CurrentUser, orders: Orders
) -> OrderPublic:
    """An approver of the order approves or rejects it."""
    order, _ = await orders.decide_approval(user, order_id, body)
    return order


@router.put("/v1/buyer-orgs/{org_id}/approval-rules", response_model=ApprovalRulesPublic)
async def put_approval_rules(
    org_id: str, body: ApprovalRulesPut, server: CurrentServer, orders: Orders
) -> ApprovalRulesPublic:
    """Replace a buyer organisation's approvers and thresholds."""
    return await orders.put_approval_rules(server, org_id, body)


@router.get("/v1/buyer-orgs/{org_id}/approval-rules", response_model=ApprovalRulesPublic)
async def get_approval_rules(
    org_id: str, server: CurrentServer, orders: Orders
) -> ApprovalRulesPublic:
    return await orders.get_approval_rules(server, org_id)
