"""HTTP routes of the webhooks domain (marketplace backend only, server key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from chat_service.dependencies import CurrentServer
from chat_service.webhooks.schemas import (
    DeliveryList,
    DeliveryStatus,
    WebhookPublic,
    WebhookPut,
    WebhookSecret,
)
from chat_service.webhooks.service import WebhookService

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])


def get_webhooks(request: Request) -> WebhookService:
    webhooks: WebhookService = request.app.state.services.webhooks
    return webhooks


Webhooks = Annotated[WebhookService, Depends(get_webhooks)]


@router.put(
    "/v1/webhook",
    response_model=WebhookSecret | WebhookPublic,
    responses={201: {"model": WebhookSecret, "description": "Created, with its secret"}},
)
async def put_webhook(
    body: WebhookPut, server: CurrentServer, webhooks: Webhooks, response: Response
) -> WebhookPublic:
    """Set the webhook URL, event types (empty: all) and alert address. The
    first time answers 201 with ``secret``, shown only then; later calls
    answer 200 and keep the secret (rotate it with ``rotate-secret``)."""
    found = await webhooks.put(server, body)
    response.status_code = 201 if isinstance(found, WebhookSecret) else 200
    return found


@router.get("/v1/webhook", response_model=WebhookPublic)
async def get_webhook(server: CurrentServer, webhooks: Webhooks) -> WebhookPublic:
    return await webhooks.get(server)


@router.post("/v1/webhook/rotate-secret", response_model=WebhookSecret)
async def rotate_secret(server: CurrentServer, webhooks: Webhooks) -> WebhookSecret:
    """A new signing secret, shown once; the old one keeps signing alongside
    it (a second ``v1``) for 24 hours."""
    return await webhooks.rotate_secret(server)


@router.get("/v1/webhook/deliveries", response_model=DeliveryList)
async def list_deliveries(
    server: CurrentServer,
    webhooks: Webhooks,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryList:
    """The delivery log, newest first: event, status, attempts, last error and
    status code, next attempt. Payloads are not shown."""
    return await webhooks.deliveries(server, status=status, limit=limit)
