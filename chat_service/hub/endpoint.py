"""The ASGI WebSocket handler at ``/v1/ws?tenant=<tenant id>``.

1. The ``Origin`` header must be on the tenant's exact allowlist, checked
   before the handshake is accepted (otherwise HTTP 403).
2. The first frame must be ``{"type": "auth", "token": ...}`` within the auth
   timeout; the token never travels in the URL.
3. Then frames are read as they come and handled in order by
   :class:`FrameHandler` from a :class:`~chat_service.hub.inbox.FrameInbox`,
   so a slow store never stops the reading (and the heartbeat).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from functools import partial

from pymongo.errors import PyMongoError
from redis.exceptions import RedisError
from starlette.websockets import WebSocket

from chat_service.auth.principals import UserPrincipal
from chat_service.errors import ChatError, RateLimited
from chat_service.hub.connection import CLOSE_POLICY, CLOSE_TOKEN_EXPIRED, Connection
from chat_service.hub.inbox import FrameInbox
from chat_service.hub.protocol import (
    AuthFrame,
    ProtocolError,
    encode,
    error_frame,
    parse_client_frame,
)
from chat_service.services import Services

__all__ = ["websocket_endpoint"]

log = logging.getLogger(__name__)
_TENANT = re.compile(r"^t_[0-9a-f]{16}$")


async def websocket_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    tenant = websocket.query_params.get("tenant", "")
    origin = websocket.headers.get("origin")
    if not _TENANT.fullmatch(tenant) or not await services.tenants.origin_allowed(tenant, origin):
        services.metrics.handshakes_rejected.labels("origin").inc()
        log.warning("websocket handshake refused: tenant=%s origin=%s", tenant[:40], origin)
        await websocket.close(code=CLOSE_POLICY)
        return
    await websocket.accept()
    authenticated = await _authenticate(websocket, services, tenant)
    if authenticated is None:
        return
    principal, auth_ref = authenticated
    conn = Connection(
        secrets.token_hex(8),
        principal,
        send_text=websocket.send_text,
        close=lambda code, reason: websocket.close(code=code, reason=reason),
        max_queue=services.settings.send_queue_frames,
        origin=origin or "",
    )
    await services.rooms.add_connection(conn)
    try:
        await services.users.remember(
            principal.tenant,
            principal.user_id,
            role=principal.role,
            display_name=principal.name,
            email=principal.email,
        )
        conn.enqueue(
            {
                "type": "ready",
                "user_id": principal.user_id,
                "role": principal.role,
                "expires_at": principal.expires_at.isoformat().replace("+00:00", "Z"),
                **({"ref": auth_ref} if auth_ref is not None else {}),
            }
        )
        await _serve(websocket, services, conn)
    finally:
        await services.rooms.remove_connection(conn)


async def _authenticate(
    websocket: WebSocket, services: Services, tenant: str
) -> tuple[UserPrincipal, str | None] | None:
    settings = services.settings
    try:
        message = await asyncio.wait_for(websocket.receive(), settings.auth_timeout_seconds)
    except TimeoutError:
        await _refuse(websocket, services, "auth_timeout", "no auth frame in time")
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        frame = parse_client_frame(
            message.get("text") if message.get("text") is not None else message.get("bytes"),
            max_bytes=settings.ws_max_frame_bytes,
        )
        if not isinstance(frame, AuthFrame):
            await _refuse(websocket, services, "not_authenticated", "first frame must be auth")
            return None
        principal = await services.verifier.verify(frame.token, tenant_hint=tenant)
    except ProtocolError as exc:
        await _refuse(websocket, services, exc.code, exc.detail)
        return None
    except ChatError as exc:
        await _refuse(websocket, services, exc.code, exc.detail)
        return None
    if services.rooms.user_connections(tenant, principal.user_id) >= (
        settings.max_connections_per_user
    ):
        await _refuse(
            websocket,
            services,
            "too_many_connections",
            f"at most {settings.max_connections_per_user} connections per user",
        )
        return None
    return principal, frame.ref


async def _refuse(websocket: WebSocket, services: Services, code: str, detail: str) -> None:
    services.metrics.handshakes_rejected.labels(code).inc()
    log.info("websocket authentication refused: %s", code)
    try:
        await websocket.send_text(encode(error_frame(code, detail)))
        await websocket.close(code=CLOSE_POLICY, reason=code)
    except Exception:
        log.debug("peer left during refusal")


async def _serve(websocket: WebSocket, services: Services, conn: Connection) -> None:
    """Read frames as they come; the inbox handles them in order meanwhile."""
    max_bytes = services.settings.ws_max_frame_bytes
    # A partial, not a closure: it is kept for the socket's whole life.
    inbox = FrameInbox(
        partial(_handle_frame, services, conn), limit=services.settings.ws_max_waiting_frames
    )
    while not conn.closed:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            break
        raw = message.get("text") if message.get("text") is not None else message.get("bytes")
        if services.rooms.expired(conn):
            conn.terminate(CLOSE_TOKEN_EXPIRED, "token_expired")
            break
        if not inbox.put(raw):
            services.metrics.frames_rejected.labels("unavailable").inc()
            log.warning("frame from %s refused: too many frames waiting", conn.principal.label)
            conn.enqueue(
                error_frame(
                    "unavailable",
                    "too many frames from this connection are waiting; try again shortly",
                    _ref_of(raw, max_bytes),
                )
            )
    # Frames already read are still handled (a send may be stored, as a
    # client resending it after reconnecting expects).
    await inbox.finish()
    await conn.wait_closed()


def _ref_of(raw: str | bytes | None, max_bytes: int) -> str | None:
    try:
        return parse_client_frame(raw, max_bytes=max_bytes).ref
    except ProtocolError as exc:
        return exc.ref


async def _handle_frame(services: Services, conn: Connection, raw: str | bytes | None) -> None:
    ref: str | None = None
    try:
        frame = parse_client_frame(raw, max_bytes=services.settings.ws_max_frame_bytes)
        ref = frame.ref
        await services.frames.handle(conn, frame)
    except ProtocolError as exc:
        services.metrics.frames_rejected.labels(exc.code).inc()
        log.info("frame refused from %s: %s", conn.principal.label, exc.code)
        conn.enqueue(error_frame(exc.code, exc.detail, exc.ref))
    except ChatError as exc:
        services.metrics.frames_rejected.labels(exc.code).inc()
        log.info("frame refused from %s: %s", conn.principal.label, exc.code)
        reply = error_frame(exc.code, exc.detail, ref)
        if isinstance(exc, RateLimited):
            reply["retry_after"] = round(exc.retry_after, 3)
        conn.enqueue(reply)
    except (RedisError, PyMongoError):
        log.warning("frame from %s failed: a store is unavailable", conn.principal.label)
        services.metrics.frames_rejected.labels("unavailable").inc()
        conn.enqueue(error_frame("unavailable", "try again shortly", ref))
    except Exception:
        log.exception("frame from %s failed", conn.principal.label)
        conn.enqueue(error_frame("internal_error", "the server could not handle this frame", ref))
