"""Shapes of the attachments domain: what callers see of an uploaded photo,
and the per-marketplace rules an upload obeys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from chat_service.conversations.schemas import AttachmentRendition

__all__ = [
    "RENDITIONS",
    "UPLOAD_ID_PATTERN",
    "AttachmentPublic",
    "AttachmentRules",
    "RenditionName",
    "RulesSource",
]

RenditionName = Literal["thumb", "display", "full"]
RENDITIONS: tuple[RenditionName, ...] = ("thumb", "display", "full")
# Chosen by the client, so a retried upload finds the first one.
UPLOAD_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


@dataclass(frozen=True)
class AttachmentRules:
    """What a marketplace allows (from its policy), within the service's hard caps."""

    allowed: bool
    max_bytes: int
    max_per_message: int


RulesSource = Callable[[str], Awaitable[AttachmentRules]]


class AttachmentPublic(BaseModel):
    id: str
    conversation_id: str
    uploader_id: str
    status: Literal["ready", "attached"]
    created_at: datetime
    width: int
    height: int
    source_format: str
    renditions: dict[str, AttachmentRendition]
    # Short-lived signed links, one per rendition, usable from an <img> tag.
    links: dict[str, str]
    links_expire_at: datetime
