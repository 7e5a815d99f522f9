"""HTTP routes of the conversations domain; thin: validate, delegate, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from chat_service.auth.principals import UserPrincipal
from chat_service.conversations.schemas import (
    ActionSend,
    ConversationCreate,
    ConversationPublic,
    ConversationSummary,
    MessagePage,
    MessagePublic,
    ReadMark,
    ServerMessageSend,
)
from chat_service.dependencies import AnyActor, CurrentServer, CurrentUser, ServicesDep
from chat_service.errors import BadRequest

__all__ = ["router"]

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
ConvId = Annotated[str, "conversation id"]


@router.post(
    "",
    response_model=ConversationPublic,
    status_code=200,
    responses={201: {"model": ConversationPublic, "description": "Created"}},
)
async def open_conversation(
    body: ConversationCreate, server: CurrentServer, services: ServicesDep, response: Response
) -> ConversationPublic:
    """Create the conversation of an order or quote, or return the existing one."""
    conversation, created = await services.conversations.open_conversation(server, body)
    response.status_code = 201 if created else 200
    return conversation


@router.get("", response_model=list[ConversationSummary])
async def list_conversations(
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ConversationSummary]:
    """The caller's conversations, most recent first, with unread counts."""
    return await services.conversations.list_conversations(user, limit=limit)


@router.get("/{conversation_id}", response_model=ConversationPublic)
async def get_conversation(
    conversation_id: ConvId, actor: AnyActor, services: ServicesDep
) -> ConversationPublic:
    return await services.conversations.get_conversation(actor, conversation_id)


@router.get("/{conversation_id}/messages", response_model=MessagePage)
async def message_history(
    conversation_id: ConvId,
    actor: AnyActor,
    services: ServicesDep,
    after_seq: Annotated[int | None, Query(ge=0)] = None,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> MessagePage:
    """Entries in ``seq`` order: after ``after_seq`` (forwards) or before
    ``before_seq`` (backwards paging, newest page first)."""
    if after_seq is not None and before_seq is not None:
        raise BadRequest("give after_seq or before_seq, not both")
    return await services.conversations.history(
        actor, conversation_id, after_seq=after_seq, before_seq=before_seq, limit=limit
    )


@router.post(
    "/{conversation_id}/messages",
    response_model=MessagePublic,
    responses={201: {"model": MessagePublic, "description": "Stored"}},
)
async def send_message(
    conversation_id: ConvId,
    body: ServerMessageSend,
    actor: AnyActor,
    services: ServicesDep,
    response: Response,
) -> MessagePublic:
    """Send a message: text, photos (``attachments``: ids of the caller's
    uploads to this conversation) or both. Users send as themselves (``sender_id`` must be absent);
    the marketplace backend sends as a participant or, without ``sender_id``,
    as a system message. A resend with the same ``client_msg_id`` returns the
    original (200) and stores nothing new."""
    if isinstance(actor, UserPrincipal):
        if body.sender_id is not None:
            raise BadRequest("users cannot send on behalf of someone else")
        # The same per-user budget as WebSocket sends.
        await services.limiter.hit(
            actor.tenant, actor.user_id, "send", limit=services.settings.send_rate_per_minute
        )
    result = await services.conversations.send(
        actor,
        conversation_id,
        client_msg_id=body.client_msg_id,
        text=body.text,
        as_user=body.sender_id,
        attachments=body.attachments,
    )
    response.status_code = 201 if result.created else 200
    return result.message


@router.post(
    "/{conversation_id}/actions",
    response_model=MessagePublic,
    responses={201: {"model": MessagePublic, "description": "Stored"}},
)
async def send_action(
    conversation_id: ConvId,
    body: ActionSend,
    user: CurrentUser,
    services: ServicesDep,
    response: Response,
) -> MessagePublic:
    """A seller's quick action (``propose_replacement``, ``request_photo``,
    ``confirm_delivery_date``) as a structured message. Sellers of the
    conversation only; 201 new, 200 for a resend of the same ``client_msg_id``."""
    await services.limiter.hit(
        user.tenant, user.user_id, "send", limit=services.settings.send_rate_per_minute
    )
    result = await services.conversations.actions.send(
        user, conversation_id, client_msg_id=body.client_msg_id, action=body.action
    )
    response.status_code = 201 if result.created else 200
    return result.message


@router.post("/{conversation_id}/read")
async def mark_read(
    conversation_id: ConvId, body: ReadMark, user: CurrentUser, services: ServicesDep
) -> dict[str, int]:
    seq = await services.conversations.mark_read(user, conversation_id, body.seq)
    return {"read_seq": seq}
