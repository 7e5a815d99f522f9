"""The principals every request and frame acts under."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chat_service.ids import EXTERNAL_ID_PATTERN

__all__ = ["Role", "ServerPrincipal", "UserPrincipal"]

Role = Literal["buyer", "seller", "staff"]


class UserPrincipal(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant: str
    user_id: str = Field(pattern=EXTERNAL_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: Role
    expires_at: datetime

    @property
    def label(self) -> str:
        """For logs: ids only, never names or e-mail addresses."""
        return f"user:{self.tenant}/{self.user_id}"


class ServerPrincipal(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant: str

    @property
    def label(self) -> str:
        return f"server:{self.tenant}"
