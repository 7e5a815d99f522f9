"""Sealing and opening bytes with AES-256-GCM; pure functions, no I/O.

A sealed blob is ``version byte || 96-bit random nonce || ciphertext+tag``.
Nonces come from ``os.urandom`` for every encryption, never from a counter.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chat_service.errors import IntegrityError

__all__ = ["BLOB_VERSION", "associated_data", "new_key", "open_sealed", "seal"]

BLOB_VERSION = 1
_NONCE_BYTES = 12


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def associated_data(*parts: str | int) -> bytes:
    """Encode the parts unambiguously: each is length-prefixed, so ``("ab","c")``
    and ``("a","bc")`` never collide."""
    out = bytearray(b"AD1")
    for part in parts:
        raw = str(part).encode("utf-8")
        out += len(raw).to_bytes(4, "big") + raw
    return bytes(out)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return bytes([BLOB_VERSION]) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Return the plaintext, or raise :class:`IntegrityError` if the blob was
    altered, moved to another record, or sealed with another key."""
    if len(blob) < 1 + _NONCE_BYTES + 16 or blob[0] != BLOB_VERSION:
        raise IntegrityError("ciphertext is malformed", code="integrity_error")
    nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise IntegrityError(
            "ciphertext failed authentication: it was altered or belongs to another record"
        ) from None
