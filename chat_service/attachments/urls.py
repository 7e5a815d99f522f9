"""Short-lived signed links to one rendition of one photo.

A link is ``/v1/attachments/{id}/{rendition}?exp=..&kv=..&sig=..`` with an
optional ``viewer`` naming staff or the marketplace backend (their views are
audited when served). The signature is HMAC-SHA256 over the attachment id,
rendition, expiry and viewer, keyed by a key derived (HKDF) from a
key-encryption key; ``kv`` names which one, so links keep working across a
key rotation. It is checked before anything is read from the store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from chat_service.errors import Forbidden, Gone

__all__ = ["LinkSigner", "SignedLink"]

_INFO = b"marketplace-chat attachment links v1"


@dataclass(frozen=True)
class SignedLink:
    attachment_id: str
    rendition: str
    expires: int
    viewer: str


def _derive(kek: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(kek)


def _message(attachment_id: str, rendition: str, expires: int, viewer: str) -> bytes:
    return "\n".join([attachment_id, rendition, str(expires), viewer]).encode()


class LinkSigner:
    def __init__(self, keks: dict[int, bytes], primary_version: int, base_url: str) -> None:
        self._keys = {version: _derive(kek) for version, kek in keks.items()}
        self._primary = primary_version
        self._base_url = base_url.rstrip("/")

    def _mac(self, version: int, message: bytes) -> str:
        digest = hmac.new(self._keys[version], message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, attachment_id: str, rendition: str, *, expires: int, viewer: str = "") -> str:
        sig = self._mac(self._primary, _message(attachment_id, rendition, expires, viewer))
        query = {"exp": str(expires), "kv": str(self._primary), "sig": sig}
        if viewer:
            query["viewer"] = viewer
        return f"{self._base_url}/v1/attachments/{attachment_id}/{rendition}?{urlencode(query)}"

    def verify(
        self,
        attachment_id: str,
        rendition: str,
        *,
        expires: str,
        key_version: str,
        sig: str,
        viewer: str,
        now: datetime,
    ) -> SignedLink:
        """The link if its signature holds and it has not expired; otherwise
        ``link_invalid`` (403) or ``link_expired`` (410)."""
        if not (expires.isdigit() and key_version.isdigit()) or len(expires) > 12:
            raise Forbidden("this link is not valid", code="link_invalid")
        version = int(key_version)
        if version not in self._keys:
            raise Forbidden("this link is not valid", code="link_invalid")
        expected = self._mac(version, _message(attachment_id, rendition, int(expires), viewer))
        if not hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace")):
            raise Forbidden("this link is not valid", code="link_invalid")
        if int(expires) <= int(now.astimezone(UTC).timestamp()):
            raise Gone("this link has expired; ask for a new one", code="link_expired")
        return SignedLink(attachment_id, rendition, int(expires), viewer)
