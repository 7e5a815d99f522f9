"""Shapes of webhook configuration, deliveries and events as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

__all__ = [
    "EVENT_TYPES",
    "DeliveryList",
    "DeliveryPublic",
    "DeliveryStatus",
    "EventType",
    "WebhookPublic",
    "WebhookPut",
    "WebhookSecret",
]

EventType = Literal[
    "order.created",
    "order.status_changed",
    "order.shipment_added",
    "order.backorder_set",
    "order.approval_decided",
    "quote.requested",
    "quote.responded",
    "quote.countered",
    "quote.accepted",
    "quote.declined",
    "quote.withdrawn",
    "quote.expired",
    "quote.converted",
    "message.created",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
DeliveryStatus = Literal["pending", "delivered", "failed"]


class WebhookPut(BaseModel):
    """Set (or replace) the tenant's webhook. ``events`` empty means every type."""

    model_config = ConfigDict(extra="forbid")

    url: StrictStr = Field(min_length=8, max_length=2000)
    events: list[EventType] = Field(default_factory=list, max_length=len(EVENT_TYPES))
    alert_email: StrictStr | None = Field(
        default=None, max_length=320, pattern=r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$"
    )
    enabled: StrictBool = True


class WebhookPublic(BaseModel):
    url: str
    events: list[EventType]
    alert_email: str | None
    enabled: bool
    consecutive_failures: int
    alert_sent_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookSecret(WebhookPublic):
    """Returned when the secret is created or rotated: the only time it is shown."""

    secret: str


class DeliveryPublic(BaseModel):
    """One event's delivery; no payload (it may name people and their orders)."""

    event_id: str
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    last_status_code: int | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    deliveries: list[DeliveryPublic]
