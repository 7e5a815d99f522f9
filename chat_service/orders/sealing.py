"""Free text of orders (and quotes) in and out of the store, sealed.

People's notes (an order change's note, a back-order's note, a quote's
request note, revision notes and decline/withdraw reasons) are their words,
so they are encrypted at rest like message text: AES-256-GCM under the
tenant's data key, with associated data binding tenant, collection, record id
and field (``history.3.note``), so a sealed note moved to another record or
field does not open. Stored as ``{key_id, blob}``; ``None`` stays ``None``.
A stored note that is not sealed is refused (fail closed), never shown.
"""

from __future__ import annotations

from typing import Any

from bson import Binary

from chat_service.clock import Clock
from chat_service.crypto import EncryptedField, FieldCipher
from chat_service.crypto.cipher import RecordRef
from chat_service.errors import IntegrityError

__all__ = ["NoteSealer"]

Doc = dict[str, Any]
_SCOPE = "tenant"


class NoteSealer:
    def __init__(self, cipher: FieldCipher, clock: Clock, collection: str) -> None:
        self._cipher = cipher
        self._clock = clock
        self._collection = collection

    def _ref(self, tenant: str, record_id: str, field: str) -> RecordRef:
        return RecordRef(
            tenant=tenant, collection=self._collection, record_id=record_id, field=field
        )

    async def seal(self, tenant: str, record_id: str, field: str, text: str | None) -> Doc | None:
        if text is None:
            return None
        sealed = await self._cipher.encrypt(
            self._ref(tenant, record_id, field), text, scope=_SCOPE, moment=self._clock.now()
        )
        return {"key_id": sealed.key_id, "blob": Binary(sealed.blob)}

    async def open(self, tenant: str, record_id: str, field: str, stored: object) -> str | None:
        if stored is None:
            return None
        if not isinstance(stored, dict) or "key_id" not in stored or "blob" not in stored:
            raise IntegrityError(f"{self._collection} {record_id}: {field} is not sealed")
        return await self._cipher.decrypt(
            self._ref(tenant, record_id, field),
            EncryptedField(stored["key_id"], bytes(stored["blob"])),
        )

    # -- orders --------------------------------------------------------------

    async def seal_entry(self, tenant: str, order_id: str, entry: Doc) -> Doc:
        """A history entry (its ``version`` set) with its note sealed."""
        field = f"history.{entry['version']}.note"
        return {**entry, "note": await self.seal(tenant, order_id, field, entry.get("note"))}

    async def seal_backorders(self, tenant: str, order_id: str, backorders: list[Doc]) -> list[Doc]:
        return [
            {
                **b,
                "note": await self.seal(
                    tenant, order_id, f"backorders.{b['line_id']}.note", b.get("note")
                ),
            }
            for b in backorders
        ]

    async def open_order(self, doc: Doc | None) -> Doc | None:
        """``doc`` with every note in plain text (a copy; ``None`` stays)."""
        if doc is None:
            return None
        tenant, order_id = doc["tenant"], doc["_id"]
        history = [
            {
                **h,
                "note": await self.open(
                    tenant, order_id, f"history.{h['version']}.note", h.get("note")
                ),
            }
            for h in doc["history"]
        ]
        backorders = [
            {
                **b,
                "note": await self.open(
                    tenant, order_id, f"backorders.{b['line_id']}.note", b.get("note")
                ),
            }
            for b in doc["backorders"]
        ]
        return {**doc, "history": history, "backorders": backorders}
