"""Reply addresses: ``reply+<token>@<reply domain>``, signed, expiring, opaque.

The ids do not fit an email local part (64 characters, and mail systems may
lowercase it), so the token names a random **handle** instead, stored in
``reply_handles`` with (tenant, conversation, recipient, expiry)::

    token = base32lower(kv:1 | handle:10 | expires:5 | mac:10)   # 42 characters
    mac   = HMAC-SHA256(HKDF(KEK[kv]), "reply v1" | kv | handle | expires)[:10]

The 80-bit MAC is checked (constant time) and the expiry compared before the
store is asked anything, so a guessed or altered token never reaches a query;
the stored expiry must match the signed one. ``kv`` names the key-encryption
key the MAC key is derived from, so addresses survive a key rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from chat_service.clock import Clock
from chat_service.stores import Document
from notifier.inbound.errors import Refused

__all__ = ["ReplyAddresses", "ReplyTarget", "ReplyTokens", "SignedHandle"]

_INFO = b"marketplace-chat reply addresses v1"
_LABEL = b"reply v1"
_HANDLE_BYTES, _EXPIRY_BYTES, _MAC_BYTES = 10, 5, 10
_RAW_BYTES = 1 + _HANDLE_BYTES + _EXPIRY_BYTES + _MAC_BYTES
TOKEN_CHARS = 42
LOCAL_PREFIX = "reply+"


@dataclass(frozen=True)
class SignedHandle:
    handle: str  # hex
    expires: int  # unix seconds


@dataclass(frozen=True)
class ReplyTarget:
    tenant: str
    conversation: str
    user: str
    handle: str


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=").lower()


def _unb32(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


class ReplyTokens:
    """Minting and checking tokens; pure (no store, no clock of its own)."""

    def __init__(self, keks: dict[int, bytes], primary_version: int) -> None:
        self._keys = {
            version: HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(kek)
            for version, kek in keks.items()
            if 0 <= version <= 255
        }
        if primary_version not in self._keys:
            raise ValueError("the primary key-encryption key must have a version 0..255")
        self._primary = primary_version

    def _mac(self, version: int, body: bytes) -> bytes:
        digest = hmac.new(self._keys[version], _LABEL + body, hashlib.sha256).digest()
        return digest[:_MAC_BYTES]

    def mint(self, handle: bytes, expires: int) -> str:
        if len(handle) != _HANDLE_BYTES:
            raise ValueError("a handle has 10 bytes")
        body = bytes([self._primary]) + handle + expires.to_bytes(_EXPIRY_BYTES, "big")
        return _b32(body + self._mac(self._primary, body))

    def verify(self, token: str, *, now: datetime) -> SignedHandle:
        """The signed handle, or :class:`Refused` (``token_invalid``/``token_expired``)."""
        invalid = Refused("token_invalid")
        token = token.lower()
        if len(token) != TOKEN_CHARS or not token.isascii() or not token.isalnum():
            raise invalid
        try:
            raw = _unb32(token)
        except (binascii.Error, ValueError):
            raise invalid from None
        # The last character carries two unused bits: only the canonical
        # spelling is accepted, so one token has exactly one address.
        if len(raw) != _RAW_BYTES or _b32(raw) != token or raw[0] not in self._keys:
            raise invalid
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(raw[0], body)):
            raise invalid
        expires = int.from_bytes(body[1 + _HANDLE_BYTES :], "big")
        if expires <= int(now.astimezone(UTC).timestamp()):
            raise Refused("token_expired")
        return SignedHandle(body[1 : 1 + _HANDLE_BYTES].hex(), expires)

    @staticmethod
    def token_of(address: str, domain: str) -> str | None:
        """The token in ``reply+<token>@<domain>`` (any case), else ``None``."""
        local, at, host = address.strip().strip("<>").rpartition("@")
        if not at or host.lower().rstrip(".") != domain.lower():
            return None
        if not local.lower().startswith(LOCAL_PREFIX):
            return None
        return local[len(LOCAL_PREFIX) :]


class ReplyAddresses:
    """The store-backed half: handles in ``reply_handles``.

    An instance is the ``ReplyAddress`` hook of ``build_notifier``: calling it
    gives the address for (tenant, conversation, recipient), reusing a handle
    that still has more than half its lifetime, so one conversation's emails
    do not each add a record.
    """

    def __init__(
        self,
        db: AsyncDatabase[Document],
        tokens: ReplyTokens,
        clock: Clock,
        *,
        domain: str,
        ttl_seconds: int,
    ) -> None:
        self._handles = db["reply_handles"]
        self._tokens = tokens
        self._clock = clock
        self._domain = domain
        self._ttl = ttl_seconds

    async def ensure_indexes(self) -> None:
        await self._handles.create_index(
            [(name, ASCENDING) for name in ("tenant", "conv", "user", "expires")]
        )

    async def __call__(self, tenant: str, conversation: str, user: str) -> str | None:
        now = int(self._clock.now().timestamp())
        found = await self._handles.find_one(
            {
                "tenant": tenant,
                "conv": conversation,
                "user": user,
                "expires": {"$gt": now + self._ttl // 2},
            },
            sort=[("expires", -1)],
        )
        if found is None:
            handle = os.urandom(_HANDLE_BYTES)
            found = {
                "_id": handle.hex(),
                "tenant": tenant,
                "conv": conversation,
                "user": user,
                "expires": now + self._ttl,
                "expires_at": self._clock.now() + timedelta(seconds=self._ttl),
            }
            await self._handles.insert_one(found)
        token = self._tokens.mint(bytes.fromhex(found["_id"]), int(found["expires"]))
        return f"{LOCAL_PREFIX}{token}@{self._domain}"

    async def resolve(self, address: str) -> ReplyTarget:
        """Who a reply to ``address`` is from and where it goes, or :class:`Refused`."""
        token = self._tokens.token_of(address, self._domain)
        if token is None:
            raise Refused("token_invalid")
        signed = self._tokens.verify(token, now=self._clock.now())
        doc = await self._handles.find_one({"_id": signed.handle})
        if doc is None or int(doc["expires"]) != signed.expires:
            raise Refused("token_invalid")
        return ReplyTarget(str(doc["tenant"]), str(doc["conv"]), str(doc["user"]), signed.handle)
