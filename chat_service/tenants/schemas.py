"""Shapes of tenants as the service and its operators see them."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

__all__ = [
    "EMAIL_PATTERN",
    "StaffEmail",
    "Tenant",
    "TenantCreate",
    "TenantCredentials",
    "validate_origins",
]

# One address, nothing a header could be split on (same rule as the webhook alert address).
EMAIL_PATTERN = r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$"
ORIGIN_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$"


class TenantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    origins: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        return validate_origins(origins)


def validate_origins(origins: list[str]) -> list[str]:
    """Exact origins only (no wildcards, paths or trailing slashes), lower-cased;
    :class:`ValueError` names the first bad one."""
    for origin in origins:
        if not re.fullmatch(ORIGIN_PATTERN, origin):
            raise ValueError(f"{origin!r} is not an exact origin like https://shop.example")
    return [o.lower() for o in origins]


class Tenant(BaseModel):
    id: str
    name: str
    origins: list[str]
    created_at: datetime


class TenantCredentials(BaseModel):
    """Shown once, when a tenant is created or its secrets are rotated."""

    tenant_id: str
    signing_secret: str
    server_key: str


class StaffEmail(BaseModel):
    """The marketplace's staff address for quote requests; ``null`` clears it."""

    model_config = ConfigDict(extra="forbid")

    staff_email: StrictStr | None = Field(default=None, max_length=320, pattern=EMAIL_PATTERN)
