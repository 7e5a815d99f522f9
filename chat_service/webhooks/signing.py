"""Signing webhook bodies and checking signatures; pure, no I/O.

The header is ``X-Chat-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>``
is HMAC-SHA256 of ``f"{t}.{body}"`` under the webhook's secret. Receivers
call :func:`verify_signature` with the raw body bytes and a tolerance, so a
captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "sign",
    "signature_header",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Chat-Signature"
EVENT_HEADER = "X-Chat-Event"
DELIVERY_HEADER = "X-Chat-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300
# A header with more parts than this is refused before any HMAC is computed.
_MAX_PARTS = 8


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True if ``header`` signs ``body`` with ``secret`` and its timestamp is
    within ``tolerance`` seconds of ``now`` (unix seconds). Any ``v1`` value may
    match (several appear while a secret is being rotated)."""
    parts = header.split(",")
    if len(parts) > _MAX_PARTS:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in parts:
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    ok = False
    for candidate in candidates:
        ok |= hmac.compare_digest(expected, candidate)
    return ok
