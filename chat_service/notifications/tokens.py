"""Opaque, signed tokens for links in away emails (unsubscribe, open the chat).

A token is ``<kv>.<base64url(nonce | AES-256-GCM ciphertext)>``: the payload
(purpose, tenant, user, conversation, expiry) is encrypted, not just signed,
so a link reveals nothing, not even ids, to whoever sees the email. The key
is derived (HKDF) from a key-encryption key, like attachment links; ``kv``
names which one, so links keep working across a key rotation. The purpose is
the associated data: an "open" token is never accepted as an "unsubscribe".
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from chat_service.errors import Forbidden, Gone

__all__ = ["LinkToken", "NotificationTokens", "Purpose"]

Purpose = Literal["unsubscribe", "open"]
_INFO = b"marketplace-chat notification links v1"
_MAX_TOKEN_CHARS = 1024


@dataclass(frozen=True)
class LinkToken:
    purpose: Purpose
    tenant: str
    user: str
    conversation: str
    expires: int


def _derive(kek: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(kek)


class NotificationTokens:
    def __init__(self, keks: dict[int, bytes], primary_version: int) -> None:
        self._keys = {version: AESGCM(_derive(kek)) for version, kek in keks.items()}
        self._primary = primary_version

    def mint(
        self, purpose: Purpose, *, tenant: str, user: str, conversation: str = "", expires: int
    ) -> str:
        payload = json.dumps([tenant, user, conversation, expires], separators=(",", ":"))
        nonce = os.urandom(12)
        sealed = self._keys[self._primary].encrypt(nonce, payload.encode(), purpose.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{self._primary}.{body}"

    def verify(self, purpose: Purpose, token: str, *, now: datetime) -> LinkToken:
        """The token's contents, or ``link_invalid`` (403) / ``link_expired`` (410)."""
        invalid = Forbidden("this link is not valid", code="link_invalid")
        version_text, _, body = token.partition(".")
        if len(token) > _MAX_TOKEN_CHARS or not version_text.isdigit() or not body:
            raise invalid
        key = self._keys.get(int(version_text))
        if key is None:
            raise invalid
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = key.decrypt(raw[:12], raw[12:], purpose.encode())
            tenant, user, conversation, expires = json.loads(plain)
        except (binascii.Error, ValueError, TypeError, InvalidTag):
            raise invalid from None
        if int(expires) <= int(now.astimezone(UTC).timestamp()):
            raise Gone("this link has expired", code="link_expired")
        return LinkToken(purpose, str(tenant), str(user), str(conversation), int(expires))
