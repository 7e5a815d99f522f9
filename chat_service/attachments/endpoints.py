"""HTTP routes of the attachments domain; thin: validate, delegate, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from chat_service.attachments.schemas import UPLOAD_ID_PATTERN, AttachmentPublic
from chat_service.dependencies import AnyActor, CurrentUser, ServicesDep
from chat_service.errors import BadRequest

__all__ = ["router", "upload_path_pattern"]

router = APIRouter(tags=["attachments"])

_BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def upload_path_pattern() -> str:
    """Requests to this path may carry a photo's bytes (the body cap is larger)."""
    return r"^/v1/conversations/[^/]+/attachments/[^/]+$"


@router.put(
    "/v1/conversations/{conversation_id}/attachments/{upload_id}",
    response_model=AttachmentPublic,
    status_code=201,
    responses={200: {"model": AttachmentPublic, "description": "Already uploaded"}},
    openapi_extra=_BINARY_BODY,
)
async def upload_attachment(
    conversation_id: str,
    upload_id: Annotated[str, Path(pattern=UPLOAD_ID_PATTERN)],
    request: Request,
    user: CurrentUser,
    services: ServicesDep,
    response: Response,
) -> AttachmentPublic:
    """Upload one photo (the raw bytes of a JPEG, PNG, WebP, HEIC or GIF) to a
    conversation. The format is read from the bytes, never from the name or the
    declared type. ``upload_id`` is the client's: a retry with the same one
    returns the first upload (200) and stores nothing new. Send the returned
    ``id`` in a message's ``attachments`` to share the photo."""
    await services.limiter.hit(
        user.tenant, user.user_id, "upload", limit=services.settings.upload_rate_per_minute
    )
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise BadRequest("Content-Length is not a number")
    attachment, created = await services.attachments.upload(
        user,
        conversation_id,
        upload_id,
        request.stream(),
        declared_length=int(declared) if declared is not None else None,
    )
    response.status_code = 201 if created else 200
    return attachment


@router.get(
    "/v1/conversations/{conversation_id}/attachments/{attachment_id}",
    response_model=AttachmentPublic,
)
async def describe_attachment(
    conversation_id: str, attachment_id: str, actor: AnyActor, services: ServicesDep
) -> AttachmentPublic:
    """A photo of the conversation with fresh short-lived links to each rendition."""
    return await services.attachments.describe(actor, conversation_id, attachment_id)


@router.get("/v1/attachments/{attachment_id}/{rendition}", response_class=Response)
async def open_attachment_link(
    attachment_id: str,
    rendition: str,
    services: ServicesDep,
    exp: Annotated[str, Query(max_length=16)],
    kv: Annotated[str, Query(max_length=8)],
    sig: Annotated[str, Query(max_length=128)],
    viewer: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    """The bytes of one rendition, for a signed link (no other credential, so
    it works from an ``<img>`` tag). Views by staff are audited."""
    image = await services.attachments.open_link(
        attachment_id, rendition, expires=exp, key_version=kv, sig=sig, viewer=viewer
    )
    return Response(
        image.data,
        media_type=image.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="{image.filename}"',
            "Cache-Control": f"private, max-age={image.max_age}",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Referrer-Policy": "no-referrer",
        },
    )
