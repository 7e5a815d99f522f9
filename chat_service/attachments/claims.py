"""Photos claimed by the message that carries them, and deleted with it.

Implements the conversations domain's ``AttachmentClaims``: a photo can be
carried by one message only (its uploader's, in the same conversation); a
resend of that message claims it again, any other message is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chat_service.attachments.repository import AttachmentRepository
from chat_service.attachments.schemas import RulesSource
from chat_service.errors import BadRequest, Forbidden

__all__ = ["AttachmentClaimer", "message_attachment"]


def message_attachment(doc: dict[str, Any]) -> dict[str, Any]:
    """What a message records about a photo: its id and renditions' shapes."""
    return {
        "id": doc["_id"],
        "renditions": {
            name: {k: r[k] for k in ("content_type", "width", "height", "size")}
            for name, r in doc["renditions"].items()
        },
    }


class AttachmentClaimer:
    def __init__(self, repository: AttachmentRepository, rules: RulesSource) -> None:
        self._repository = repository
        self._rules = rules

    async def claim(
        self, conv: dict[str, Any], sender: str, idem: str, attachment_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        if len(set(attachment_ids)) != len(attachment_ids):
            raise BadRequest("a photo is listed twice", code="invalid_request")
        rules = await self._rules(conv["tenant"])
        if not rules.allowed:
            raise Forbidden(
                "photos are turned off for this marketplace", code="attachments_disabled"
            )
        if len(attachment_ids) > rules.max_per_message:
            raise BadRequest(
                f"a message may carry at most {rules.max_per_message} photos",
                code="too_many_attachments",
            )
        newly_claimed: list[str] = []
        carried = []
        for attachment_id in attachment_ids:
            before = await self._repository.claim(
                attachment_id,
                tenant=conv["tenant"],
                conv_id=conv["_id"],
                uploader=sender,
                claim=idem,
            )
            if before is None:
                # Give back only what this call took; a resend's photos stay with
                # the message that already carries them.
                await self._repository.release(newly_claimed, idem)
                raise BadRequest(
                    f"photo {attachment_id} is not one of your uploads to this conversation,"
                    " or another message already carries it",
                    code="attachment_unavailable",
                )
            if before["status"] == "ready":
                newly_claimed.append(attachment_id)
            carried.append(message_attachment(before))
        return carried

    async def discard(self, tenant: str, conv_id: str, attachment_ids: Sequence[str]) -> None:
        await self._repository.delete(tenant, attachment_ids)
