"""The HTTP edge: a mail provider's inbound hook posts the raw RFC 822 message.

``POST /v1/inbound/email`` with the raw message as the body and

* ``X-Envelope-Recipient``: the address the mail was sent to (or the query
  parameter ``recipient``); ``X-Envelope-Sender`` optional;
* ``X-Inbound-Timestamp``: unix seconds, within the allowed skew;
* ``X-Inbound-Signature``: ``sha256=<hex HMAC-SHA256(secret,
  "<timestamp>.<recipient>." + body)>``, compared in constant time.

The body is read up to the size cap and no further (``413``). Answers JSON:
``200 {"status", "reason"}`` when posted, duplicate or dropped; problem
details (``application/problem+json``) otherwise: ``401`` bad signature,
``413`` too large, ``422`` refused (with the reason as ``code``), ``503``
store down (the provider retries). A tiny ASGI app of its own: the API app
cannot import the notifier (dependency direction).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from notifier.inbound.errors import InboundUnavailable
from notifier.inbound.service import InboundReplies

__all__ = ["create_webhook_app", "sign"]


def sign(secret: str, timestamp: str, recipient: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{recipient}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _problem(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": code, "status": status, "code": code, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


class _TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_webhook_app(
    replies: InboundReplies,
    *,
    secret: str,
    max_bytes: int,
    max_skew_seconds: int = 300,
    now: Callable[[], float] = time.time,
) -> Starlette:
    async def inbound_email(request: Request) -> JSONResponse:
        recipient = request.headers.get("x-envelope-recipient") or request.query_params.get(
            "recipient", ""
        )
        timestamp = request.headers.get("x-inbound-timestamp", "")
        signature = request.headers.get("x-inbound-signature", "")
        if not recipient or len(recipient) > 512:
            return _problem(400, "invalid_request", "the envelope recipient is missing")
        try:
            body = await _body(request, max_bytes)
        except _TooLarge:
            return _problem(413, "payload_too_large", f"at most {max_bytes} bytes")
        fresh = timestamp.isdigit() and abs(now() - int(timestamp)) <= max_skew_seconds
        expected = sign(secret, timestamp, recipient, body)
        if not hmac.compare_digest(expected.encode(), signature.encode()) or not fresh:
            return _problem(401, "not_authenticated", "missing, wrong or stale signature")
        try:
            outcome = await replies.handle(
                body, recipient, envelope_sender=request.headers.get("x-envelope-sender")
            )
        except InboundUnavailable:
            return _problem(503, "unavailable", "try again later")
        if outcome.status == "rejected":
            status = 413 if outcome.reason == "too_large" else 422
            return _problem(status, outcome.reason, "the email was refused")
        return JSONResponse({"status": outcome.status, "reason": outcome.reason})

    async def ready(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/v1/inbound/email", inbound_email, methods=["POST"]),
            Route("/ready", ready, methods=["GET"]),
        ]
    )
